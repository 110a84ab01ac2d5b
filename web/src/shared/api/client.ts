/**
 * The typed API client: openapi-fetch over the types generated from the server's OpenAPI
 * document (web/src/shared/api/schema.d.ts, `npm run openapi`).
 *
 * Two things every request needs are done here once. Requests that change state carry the
 * session's CSRF token. A request answered 401 because the session has ended waits while the
 * user signs in again (the page stays as it was) and is then sent once more with the new token.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

export type { paths };
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

export interface ApiError {
  code: string;
  message: string;
}

let csrfToken: string | undefined;
let reauthenticate: (() => Promise<void>) | undefined;
const unsent = new Map<string, Request>();
const SAFE = new Set(['GET', 'HEAD']);

export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

/** the session provider's way to ask the user to sign in again; resolves once they have */
export function onSessionExpired(handler: (() => Promise<void>) | undefined): void {
  reauthenticate = handler;
}

function withToken(request: Request): Request {
  if (!SAFE.has(request.method) && csrfToken) request.headers.set('X-CSRF-Token', csrfToken);
  return request;
}

const session: Middleware = {
  onRequest({ request, id }) {
    const sent = withToken(request);
    if (!request.url.includes('/api/v1/auth/')) unsent.set(id, sent.clone());
    return sent;
  },
  async onResponse({ response, id }) {
    const retry = unsent.get(id);
    unsent.delete(id);
    if (response.status !== 401 || !retry || !reauthenticate) return response;
    const body = (await response
      .clone()
      .json()
      .catch(() => null)) as { error?: ApiError } | null;
    if (body?.error?.code !== 'CV_UNAUTHENTICATED') return response;
    await reauthenticate();
    return fetch(withToken(retry));
  },
  onError({ id }) {
    unsent.delete(id);
  },
};
api.use(session);

/** the error a failed call answered with, or a stand-in when the server could not be reached */
export function errorOf(error: unknown): ApiError {
  const e = (error as { error?: Partial<ApiError> } | undefined)?.error;
  return { code: e?.code ?? 'CV_NETWORK', message: e?.message ?? '' };
}

/** the POST route that answers with a file to save rather than JSON, and what it is sent */
type FilePath = '/api/v1/subject/export';
type FileRequest = paths[FilePath]['post']['requestBody']['content']['application/json'];

/**
 * A download of a POST answer (a ZIP, say): the browser saves it under the server's file name.
 * The request goes through the client, so it carries the CSRF token and waits for a new sign-in
 * like any other; a refusal is thrown as the server's answer (read it with errorOf).
 */
export async function download(path: FilePath, body: FileRequest, fallbackName: string): Promise<void> {
  const { data, error, response } = await api.POST(path, { body, parseAs: 'blob' });
  if (!data) throw error;
  const name = /filename="([^"]+)"/.exec(response.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
