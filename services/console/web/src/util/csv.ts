// A list as the person sees it, downloaded as CSV (UTF-8 with a byte-order mark, so Excel opens Chinese text).
export function downloadCsv(name: string, header: string[], rows: (string | number)[][]): void {
  const cell = (v: string | number) => {
    // Text a spreadsheet would run as a formula (a name beginning `=`) is written with an apostrophe before it.
    const s = typeof v === 'string' && /^[=+\-@\t\r]/.test(v) ? `'${v}` : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const text = [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n');
  const url = URL.createObjectURL(new Blob(['\ufeff', text], { type: 'text/csv;charset=utf-8' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

/** A table as an Excel workbook of one sheet, header row in bold; numbers stay numbers. The writer is loaded only
 *  when someone downloads. */
export async function downloadXlsx(name: string, sheet: string, header: string[], rows: (string | number)[][]): Promise<void> {
  const { default: writeXlsxFile } = await import('write-excel-file/browser');
  const data = [header.map((value) => ({ value, fontWeight: 'bold' as const })), ...rows.map((r) => r.map((value) => ({ value })))];
  await writeXlsxFile(data, { sheet: sheet.slice(0, 31) }).toFile(name);
}
