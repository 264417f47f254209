// The Kubernetes API clients the actuator uses, and the one place that turns API errors into
// Temporal's retry semantics: 5xx, 409/429, timeouts and connection errors are retried; any other
// 4xx (403 Forbidden, 404, 422) is a non-retryable ApplicationFailure naming verb, resource and
// the API server's reason, so it reads clearly in the incident timeline.
import { ApplicationFailure } from '@temporalio/activity';
import {
  ApiException,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  Observable,
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type KubeConfig,
  type ObservableMiddleware,
  type RequestContext,
  type ResponseContext,
} from '@kubernetes/client-node';

export interface KubeClients {
  apps: AppsV1Api;
  core: CoreV1Api;
  custom: CustomObjectsApi;
}

export const kubeClientsFrom = (kc: KubeConfig): KubeClients => ({
  apps: kc.makeApiClient(AppsV1Api),
  core: kc.makeApiClient(CoreV1Api),
  custom: kc.makeApiClient(CustomObjectsApi),
});

/** Per-request options: a deadline on every call (a hung API server must not hang the activity
 * until its start-to-close timeout), and the patch content type where one is needed. */
export function requestOptions(timeoutMs: number, patch?: 'merge' | 'json'): ConfigurationOptions<ObservableMiddleware> {
  const deadline: ObservableMiddleware = {
    pre: (ctx: RequestContext) => {
      ctx.setSignal(AbortSignal.timeout(timeoutMs));
      return new Observable(Promise.resolve(ctx));
    },
    post: (res: ResponseContext) => new Observable(Promise.resolve(res)),
  };
  const base: ConfigurationOptions<ObservableMiddleware> = { middleware: [deadline], middlewareMergeStrategy: 'append' };
  if (!patch) return base;
  return setHeaderOptions('Content-Type', patch === 'merge' ? PatchStrategy.MergePatch : PatchStrategy.JsonPatch, base);
}

/** The API server's Status object, when the error body carries one. */
export interface ApiStatus {
  code?: number;
  reason?: string;
  message?: string;
  details?: { causes?: { reason?: string; message?: string }[] };
}

export function apiStatusOf(err: unknown): { code: number; status: ApiStatus } | undefined {
  if (!(err instanceof ApiException)) return undefined;
  const e = err as ApiException<unknown>;
  let body: unknown = e.body;
  if (typeof e.body === 'string') {
    const text = e.body;
    try {
      body = JSON.parse(text);
    } catch {
      body = { message: text.slice(0, 200) };
    }
  }
  return { code: e.code, status: (body && typeof body === 'object' ? body : {}) as ApiStatus };
}

/** Retryable: the server or the network failed, or a conflict/throttle that a retry resolves. */
const retryableCode = (code: number): boolean => code >= 500 || code === 409 || code === 429 || code === 408;

/** Wraps a failed API call: `what` names the verb and resource ("patch deployments shop/web"). */
export function k8sError(what: string, err: unknown): Error {
  if (err instanceof ApplicationFailure) return err;
  const api = apiStatusOf(err);
  if (api) {
    const reason = api.status.reason ?? (api.code === 401 ? 'Unauthorized' : undefined);
    const message = `${what}: HTTP ${api.code}${reason ? ` ${reason}` : ''}${api.status.message ? `: ${api.status.message}` : ''}`;
    if (retryableCode(api.code)) return new Error(message, { cause: err });
    return ApplicationFailure.create({
      type: 'KubernetesRejected',
      nonRetryable: true,
      message,
      details: [{ status: api.code, ...(reason ? { reason } : {}), request: what }],
    });
  }
  const e = err as { name?: string; message?: string; code?: string; cause?: { message?: string } };
  // client-node 2 fetches with undici: a network or TLS failure is "fetch failed", its reason the cause.
  const message = e.cause?.message && e.message ? `${e.message}: ${e.cause.message}` : e.message;
  const why = e.name === 'AbortError' || /aborted|timeout/i.test(message ?? '') ? 'request timed out' : (message ?? String(err));
  return new Error(`${what}: ${why}`, { cause: err });
}

/** Runs one API call, wrapping its failure. */
export async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw k8sError(what, err);
  }
}

export const isNotFound = (err: unknown): boolean => apiStatusOf(err)?.code === 404;

/** Like call(), but a 404 is an answer (undefined) rather than a failure. */
export async function callOrNotFound<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw k8sError(what, err);
  }
}
