// A closed-loop HTTP load generator: `connections` keep-alive connections, each sending its
// next request as soon as the previous one is answered.
//
// Why not autocannon: at the deadline it destroys its sockets with requests still in flight,
// and those may or may not be applied by the server. The write checks need the exact number of
// acknowledged requests per body, so this one stops *issuing* at the deadline and then waits
// for every outstanding answer.
import http from "node:http";

/** One request; resolves with status, body text and latency in ms. */
export function request(agent, { port, method, path, headers = {}, body }) {
	return new Promise((resolve, reject) => {
		const started = performance.now();
		const req = http.request(
			{
				host: "127.0.0.1",
				port,
				method,
				path,
				agent,
				headers: body ? { "Content-Type": "application/json", "Content-Length": body.length, ...headers } : headers,
			},
			(res) => {
				const chunks = [];
				res.on("data", (c) => chunks.push(c));
				res.on("end", () =>
					resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }),
				);
				res.on("error", reject);
			},
		);
		req.on("error", reject);
		req.end(body);
	});
}

/**
 * Runs `targets` (each { path, body, acked: 0 }) round-robin over `connections` loops for
 * `seconds`. Counts acknowledged (200) answers per target and collects every latency.
 * `headersOf(target)`: each request's headers, when they differ (a fresh Idempotency-Key).
 */
export async function closedLoop({ port, headers, targets, connections, seconds, headersOf = () => headers }) {
	const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
	const latencies = [];
	const failures = new Map();
	let next = 0;
	let sent = 0;
	const started = performance.now();
	const deadline = started + seconds * 1000;

	async function loop() {
		while (performance.now() < deadline) {
			const target = targets[next++ % targets.length];
			sent++;
			const res = await request(agent, { port, method: "POST", path: target.path, headers: headersOf(target), body: target.body });
			latencies.push(res.ms);
			if (res.status === 200) target.acked++;
			else {
				const key = `${res.status} ${res.text.slice(0, 160)}`;
				failures.set(key, (failures.get(key) ?? 0) + 1);
			}
		}
	}
	await Promise.all(Array.from({ length: connections }, loop));
	const elapsed = (performance.now() - started) / 1000;
	agent.destroy();
	return { sent, seconds: elapsed, latencies: summarize(latencies), failures: Object.fromEntries(failures) };
}

export function summarize(samples) {
	const sorted = Float64Array.from(samples).sort();
	const at = (q) => (sorted.length === 0 ? null : round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]));
	return { count: sorted.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
}

export const round = (n, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
