/**
 * The sandbox is ready when it answers: requests fired from the first moment the API port
 * accepts connections get either a 503 with Retry-After in the TVM's error shape (still
 * starting) or the route's real answer, never a 404 for a real route.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../../local/sandbox';
import { freePort } from '../support/e2e';

function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly body: unknown;
}

async function registerAttempt(apiUrl: string, username: string): Promise<Answer> {
  const response = await fetch(`${apiUrl}/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: 'correct horse battery staple' }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: await response.json() };
}

test('a client that connects the moment the port opens gets 503 + Retry-After until the functions load, then 201, never 404', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tvm-ready-'));
  const [port, s3Port] = [await freePort(), await freePort()];
  const starting = startSandbox({ dataDir, port, s3Port, bcryptCost: 10 });
  const answers: Answer[] = [];
  try {
    const deadline = Date.now() + 30_000;
    while (!(await accepts(port))) {
      if (Date.now() > deadline) throw new Error('the API port never opened');
      await new Promise((wait) => setTimeout(wait, 2));
    }
    const apiUrl = `http://127.0.0.1:${port}`;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const answer = await registerAttempt(apiUrl, `early${attempt}`);
      answers.push(answer);
      if (answer.status === 201) break;
      await new Promise((wait) => setTimeout(wait, 5));
    }
  } finally {
    await (await starting).stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  expect(answers.at(-1)?.status).toBe(201);
  const early = answers.slice(0, -1);
  // The port opens before the handlers load, so the first attempts meet the starting sandbox.
  expect(early.length).toBeGreaterThan(0);
  for (const answer of early) {
    expect(answer).toEqual({
      status: 503,
      retryAfter: '1',
      body: { error: { code: 'service_unavailable', message: expect.any(String) } },
    });
  }
});
