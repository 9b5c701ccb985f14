import WebSocket from 'ws';

export interface UpgradeOutcome {
  /** 101 when the socket opened, else the refusal's HTTP status. */
  status: number;
  /** The refusal body's error code. */
  code?: string;
  retryAfter?: string;
  /** The open socket (status 101), for the caller to close. */
  ws?: WebSocket;
}

/** One WebSocket upgrade to `url`: the open socket, or the refusal's status, error code and Retry-After. */
export function upgradeAttempt(url: string, protocols: string[] = ['realtime']): Promise<UpgradeOutcome> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          code: JSON.parse(body).error?.code,
          retryAfter: res.headers['retry-after'],
        }),
      );
    });
    ws.once('error', (err) => (err.message.includes('Unexpected server response') ? undefined : reject(err)));
    ws.once('open', () => resolve({ status: 101, ws }));
  });
}
