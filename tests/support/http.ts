/** A tiny cookie-aware HTTP client for API tests (sends the CSRF header like the portal does). */
export class ApiClient {
  private cookies = new Map<string, string>();
  csrfToken: string | null = null;
  bearer: string | null = null;

  constructor(readonly baseUrl: string) {}

  /** Sends a request; JSON bodies are serialised, the answer parsed when it is JSON. */
  async request(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const sendHeaders: Record<string, string> = { ...headers };
    if (body !== undefined && typeof body !== "string") sendHeaders["content-type"] = "application/json";
    if (body !== undefined && typeof body === "string") sendHeaders["content-type"] ??= "application/json";
    if (this.cookies.size) sendHeaders.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    if (this.csrfToken && !("x-csrf-token" in sendHeaders)) sendHeaders["x-csrf-token"] = this.csrfToken;
    if (this.bearer) sendHeaders.authorization = `Bearer ${this.bearer}`;
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: sendHeaders,
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      redirect: "manual",
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(";");
      const [name, ...value] = (pair ?? "").split("=");
      if (!name) continue;
      if (/expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name.trim());
      else this.cookies.set(name.trim(), value.join("="));
    }
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return {
      status: res.status,
      headers: res.headers,
      text,
      json: json as Record<string, unknown> & { items?: unknown[] },
    };
  }

  /** Signs in with a local account and keeps the session and CSRF token. */
  async login(email: string, password: string, totp?: string) {
    const res = await this.request("POST", "/api/auth/login", { email, password, ...(totp ? { totp } : {}) });
    if (res.status === 200) this.csrfToken = String(res.json.csrfToken);
    return res;
  }

  /** The value of one cookie this client holds. */
  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  /** Replaces the cookie jar (to simulate a stolen or planted cookie). */
  setCookie(name: string, value: string): void {
    this.cookies.set(name, value);
  }
}
