// Catalog item names by code, read once from the published catalog: pages show 企业公示信息检查 beside SX-SCJG-001.
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { CatalogService } from '@gen/suiji/catalog/v1/catalog_pb';
import { client } from '../api/client';

export const useItems = defineStore('items', () => {
  const names = ref<Record<string, string>>({});
  let loading: Promise<void> | null = null;

  function load(): Promise<void> {
    loading ??= (async () => {
      const found: Record<string, string> = {};
      let pageToken = '';
      do {
        const page = await client(CatalogService).listPublicItems({ pageSize: 500, pageToken });
        for (const item of page.items) found[item.code] = item.version?.content?.name ?? '';
        pageToken = page.nextPageToken;
      } while (pageToken);
      names.value = found;
    })().catch(() => {
      loading = null;
    });
    return loading;
  }

  /** The item's name, or '' while it is unknown. */
  function name(code: string): string {
    return names.value[code] ?? '';
  }

  return { names, load, name };
});
