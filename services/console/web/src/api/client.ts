// The services' own gRPC APIs, called from the browser as gRPC-Web through the console, which attaches the
// signed-in person's access token: one contract (the protos), no hand-written mapping.
import { createClient, type Client, Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { createGrpcWebTransport } from '@connectrpc/connect-web';
import type { DescService } from '@bufbuild/protobuf';
import { BadRequestSchema, LocalizedMessageSchema } from '@gen/google/rpc/error_details_pb';
import { ElMessage } from 'element-plus';
import { useSession } from './session';
import { i18n } from '../i18n';

const csrf: Interceptor = (next) => async (request) => {
  const session = useSession();
  request.header.set('x-suiji-csrf', session.me?.csrf ?? '');
  // The services word timelines and reasons in the page's language, not the browser's.
  request.header.set('accept-language', i18n.global.locale.value);
  try {
    return await next(request);
  } catch (error) {
    if (error instanceof ConnectError && error.code === Code.Unauthenticated) session.expired = true;
    throw error;
  }
};

/** The transport to the services through the console; at `at`, the calls go to that one service (the audit trail,
 *  which every service serves under the same name). */
function transportTo(at?: string) {
  return createGrpcWebTransport({
    baseUrl: at ? `/console/rpc/${at}` : '/console/rpc',
    useBinaryFormat: true,
    interceptors: [csrf],
    fetch: (input, init) => globalThis.fetch(input, { ...init, credentials: 'same-origin' }),
  });
}

const clients = new Map<string, Client<DescService>>();

/** The client of a service, e.g. `client(InspectionService)`; with `at`, of that one service's copy of a service
 *  every service serves, e.g. `client(AuditService, 'draw')`. */
export function client<T extends DescService>(service: T, at?: string): Client<T> {
  const key = `${at ?? ''}/${service.typeName}`;
  let c = clients.get(key);
  if (!c) {
    c = createClient(service, transportTo(at));
    clients.set(key, c);
  }
  return c as Client<T>;
}

/** The field violations an error carries, by field (the services name the request's fields), each in the page's
 *  language where the service wrote it in that language (`localized_message`), else as the service described it. */
export function violations(error: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const locale = i18n.global.locale.value;
  if (error instanceof ConnectError) {
    for (const v of error.findDetails(BadRequestSchema).flatMap((b) => b.fieldViolations)) {
      const text = v.localizedMessage?.locale === locale ? v.localizedMessage.message : v.description;
      out[v.field] = out[v.field] ? `${out[v.field]}；${text}` : text;
    }
  }
  return out;
}

/** What went wrong, for a message box: the session's end or an unreachable service in the page's language, else the
 *  service's message without the code prefix. */
export function messageOf(error: unknown): string {
  if (error instanceof ConnectError) {
    if (error.code === Code.Unauthenticated) return i18n.global.t('signIn.again');
    if (error.code === Code.Unavailable) return i18n.global.t('common.unavailable');
    if (error.code === Code.Aborted) return i18n.global.t('common.changed');
    // A refusal not shown at a form's field (a step's reason asked in a box): its violations, in the page's language.
    const texts = Object.values(violations(error));
    if (error.code === Code.InvalidArgument && texts.length) return texts.join('；');
    // Why a step is not possible now, in the page's language where the service wrote it so.
    const locale = i18n.global.locale.value;
    const localized = error.findDetails(LocalizedMessageSchema).find((m) => m.locale === locale);
    return localized?.message ?? error.rawMessage;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Tells the person in a message box what went wrong — unless the session ended: the sign-in dialog over the page
 *  says so already, and keeps what was typed. */
export function showError(error: unknown): void {
  if (error instanceof ConnectError && error.code === Code.Unauthenticated) return;
  ElMessage.error(messageOf(error));
}
