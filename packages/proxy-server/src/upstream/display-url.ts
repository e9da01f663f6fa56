/** A URL fit for logs and status: without userinfo or query string, either of which may carry a token. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    if (parsed.search) parsed.search = '?…';
    return parsed.toString();
  } catch {
    return '[invalid url]';
  }
}
