/** The one HTTP GET the readiness checks and the status collectors use (injectable in tests). */
export type HttpGet = (url: string, timeoutMs: number) => Promise<{ status: number; body: string }>;

export const fetchGet: HttpGet = async (url, timeoutMs) => {
  // A ref'd timer, not AbortSignal.timeout (whose timer is unref'd): with a request hung on a
  // port whose container does not listen yet, nothing else may keep the event loop alive and
  // Node would exit mid-`up` (exit code 13, seen with the single topology).
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new DOMException(`no answer from ${url} in ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
  try {
    const res = await fetch(url, { signal: abort.signal, redirect: 'manual' });
    return { status: res.status, body: await res.text() };
  } finally {
    clearTimeout(timer);
  }
};
