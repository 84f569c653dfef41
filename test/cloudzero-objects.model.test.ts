// Many concurrent sum/replace/delete calls, to one stream and to many, checked against a model.
// Every acknowledged call is in its stream's ingest log exactly once, in commit order; applying
// the calls one at a time in that order to an in-memory model must give both each call's
// response (how many series a delete removed) and the final state read back: the calls behaved
// as that serial order, with no interleaving.
import { describe, expect, it } from "vitest";
import { api, createToken, expectAccepted, readStream, seededRandom, uniqueOrg, write } from "./helpers";

type Dims = Record<string, string>;
type Record_ = { timestamp: string; value?: string; associated_cost?: Dims };
type Call = { stream: string; op: "sum" | "replace" | "delete"; records: Record_[] };

const DAYS = ["2024-02-01", "2024-02-02", "2024-02-03"];
const CLIENTS = ["a", "b", "c"];
const REGIONS = ["us", "eu"];

function generateCalls(seed: number, streams: string[], count: number): Call[] {
	const { next, pick } = seededRandom(seed);
	return Array.from({ length: count }, () => {
		const stream = pick(streams);
		const roll = next();
		const op = roll < 0.5 ? "sum" : roll < 0.8 ? "replace" : "delete";
		const records = Array.from({ length: 1 + Math.floor(next() * 3) }, (): Record_ => {
			const timestamp = pick(DAYS);
			if (op === "delete") {
				// Match all series of the day, one client, or one exact series.
				const kind = next();
				const associated_cost: Dims | undefined =
					kind < 0.3
						? undefined
						: kind < 0.7
							? { "custom:Client": pick(CLIENTS) }
							: { "custom:Client": pick(CLIENTS), Region: pick(REGIONS) };
				return associated_cost ? { timestamp, associated_cost } : { timestamp };
			}
			return {
				timestamp,
				value: (Math.floor(next() * 1000) / 10).toString(),
				associated_cost: { "custom:Client": pick(CLIENTS), Region: pick(REGIONS) },
			};
		});
		return { stream, op, records };
	});
}

/** The model: per stream, day → series key → value. */
class Model {
	readonly streams = new Map<string, Map<string, number>>();

	apply(call: Call): { series_deleted?: number } {
		const cells = this.streams.get(call.stream) ?? new Map<string, number>();
		this.streams.set(call.stream, cells);
		if (call.op !== "delete") {
			// CloudZero keeps one value per day: a request's records of one (day, series) are summed
			// first; sum adds that total, replace sets it.
			const totals = new Map<string, number>();
			for (const r of call.records) {
				const cell = `${r.timestamp}|${r.associated_cost!["custom:Client"]}|${r.associated_cost!.Region}`;
				totals.set(cell, (totals.get(cell) ?? 0) + Number(r.value));
			}
			for (const [cell, total] of totals) cells.set(cell, call.op === "sum" ? (cells.get(cell) ?? 0) + total : total);
			return {};
		}
		const doomed = new Set<string>();
		for (const r of call.records) {
			for (const cell of cells.keys()) {
				const [day, client, region] = cell.split("|");
				const want = r.associated_cost ?? {};
				if (day === r.timestamp && (want["custom:Client"] ?? client) === client && (want.Region ?? region) === region) doomed.add(cell);
			}
		}
		for (const cell of doomed) cells.delete(cell);
		return { series_deleted: doomed.size };
	}

	read(stream: string) {
		return [...(this.streams.get(stream) ?? new Map<string, number>()).entries()]
			.map(([cell, value]) => {
				const [day, client, region] = cell.split("|");
				return {
					timestamp: day,
					value: String(Number(value.toPrecision(15))),
					associated_cost: { "custom:Client": client, Region: region },
				};
			})
			.sort(byDayAndSeries);
	}
}

const byDayAndSeries = (a: Record_, b: Record_) => {
	const cell = (r: Record_) => `${r.timestamp}|${r.associated_cost?.["custom:Client"]}|${r.associated_cost?.Region}`;
	const [x, y] = [cell(a), cell(b)];
	return x < y ? -1 : x > y ? 1 : 0;
};

async function ingestLog(token: string, stream: string): Promise<Array<{ request_id: string; operation: string }>> {
	const entries: Array<{ request_id: string; operation: string }> = [];
	let cursor = "";
	do {
		const res = await api(`/unit-cost/v1/telemetry/metric/${stream}/log?limit=1000${cursor ? `&cursor=${cursor}` : ""}`, {
			headers: { Authorization: token },
		});
		const page = await res.json<{ entries: typeof entries; next_cursor: string | null }>();
		entries.push(...page.entries);
		cursor = page.next_cursor ?? "";
	} while (cursor);
	return entries.reverse(); // oldest first: commit order
}

async function runAgainstModel(seed: number, streamCount: number, callCount: number) {
	const { token } = await createToken(uniqueOrg("model"));
	const streams = Array.from({ length: streamCount }, (_, i) => `model-${i}`);
	const model = new Model();
	const calls: Call[] = [];
	// Each stream starts with one value so deletes always find their stream.
	for (const stream of streams) {
		const seedCall: Call = {
			stream,
			op: "replace",
			records: [{ timestamp: DAYS[0], value: "1", associated_cost: { "custom:Client": "a", Region: "us" } }],
		};
		const body = await expectAccepted(
			await write(token, stream, "replace", { records: seedCall.records }, { "X-Request-Id": `seed-${stream}` }),
		);
		expect(body.request_id).toBe(`seed-${stream}`);
		calls.push(seedCall);
	}
	const concurrent = generateCalls(seed, streams, callCount);
	const responses = await Promise.all(
		concurrent.map(async (call, i) => {
			const res = await write(token, call.stream, call.op, { records: call.records }, { "X-Request-Id": `call-${i}` });
			return { status: res.status, body: await res.json<Record<string, unknown>>() };
		}),
	);
	expect(responses.filter((r) => r.status !== 200).map((r) => JSON.stringify(r.body))).toEqual([]);

	const byRequestId = new Map<string, { call: Call; response: Record<string, unknown> }>();
	for (const [i, stream] of streams.entries()) byRequestId.set(`seed-${stream}`, { call: calls[i], response: {} });
	for (const [i, call] of concurrent.entries()) byRequestId.set(`call-${i}`, { call, response: responses[i].body });

	for (const stream of streams) {
		const log = await ingestLog(token, stream);
		const expectedIds = [...byRequestId.entries()].filter(([, v]) => v.call.stream === stream).map(([id]) => id);
		// Every acknowledged call was committed exactly once.
		expect([...log.map((e) => e.request_id)].sort()).toEqual(expectedIds.sort());
		for (const entry of log) {
			const { call, response } = byRequestId.get(entry.request_id)!;
			const outcome = model.apply(call);
			if (call.op === "delete") expect(response.series_deleted, `${stream} ${entry.request_id}`).toBe(outcome.series_deleted);
		}
		expect((await readStream(token, stream, "limit=1000")).sort(byDayAndSeries), stream).toEqual(model.read(stream));
	}
}

describe("concurrent writes against a model", () => {
	it("one stream: 120 concurrent sum/replace/delete calls behave as their commit order", async () => {
		await runAgainstModel(1, 1, 120);
	});

	it("many streams: 240 concurrent calls spread over 12 streams, each stream serial in its commit order", async () => {
		await runAgainstModel(2, 12, 240);
	});

	it("more seeds on a few streams", async () => {
		for (const seed of [3, 4, 5]) await runAgainstModel(seed, 3, 90);
	});
});
