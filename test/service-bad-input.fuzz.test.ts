// Generated bad input: every malformed request gets a 4xx with a clear error, never a 5xx,
// and leaves storage exactly as it was. `npm test` runs a small sample; `npm run test:fuzz`
// runs FUZZ_SCALE times more (vitest --mode fuzz). Generation is seeded, so runs repeat.
import { env } from "cloudflare:workers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { api, createToken, expectAccepted, plainOf, readStream, seededRandom, storageSnapshot, uniqueOrg, write } from "./helpers";

const SCALE = Number(env.FUZZ_SCALE) || 1;
const PER_CATEGORY = 25 * SCALE;
const STREAM = "fuzzed";
const DIMS = { "custom:Client": "Patric Star", Region: "us-east-1" };
const VALID = { timestamp: "2024-06-01T00:00:00Z", value: "12.5", associated_cost: DIMS };

type Rng = ReturnType<typeof seededRandom>;

/** One bad request: a path suffix (op), a raw body, extra headers. */
interface BadRequest {
	/** The endpoint, when not the CloudZero write of `op` on `stream`. */
	path?: string;
	op?: "sum" | "replace" | "delete" | "";
	stream?: string;
	body?: string | ReadableStream<Uint8Array>;
	headers?: Record<string, string>;
}

const withRecord = (record: Record<string, unknown>, extra: Record<string, unknown>[] = []) =>
	JSON.stringify({ records: [VALID, ...extra, record] });
const replaceField = (field: string, value: unknown) => withRecord({ ...VALID, [field]: value });
const withDims = (dims: unknown) => withRecord({ ...VALID, associated_cost: dims });

/** Categories of malformed input; each returns a generator of bad requests. */
const CATEGORIES: Record<string, (r: Rng, i: number) => BadRequest> = {
	"broken JSON": (r) => {
		const text = JSON.stringify({ records: [VALID, { ...VALID, value: r.int(1000) }] });
		const broken = [
			() => text.slice(0, 1 + r.int(text.length - 2)),
			() => text.replace(/"/g, "'"),
			() => text.replace("}", "},"),
			() => text.replace(/"records"/, "records"),
			() => `${text}${r.pick(["}", "]", ",", "x", "{}"])}`,
			() => {
				const at = r.int(text.length);
				return text.slice(0, at) + r.pick(["{", "[", ":", "\\", "\u0000", "NaN"]) + text.slice(at + 1);
			},
			() => text.replace('"12.5"', r.pick(["NaN", "Infinity", "-Infinity", "undefined", "0x10", "1.", ".5e"])),
		];
		// Keep only texts that really are not JSON.
		for (;;) {
			const candidate = r.pick(broken)();
			try {
				JSON.parse(candidate);
			} catch {
				return { body: candidate };
			}
		}
	},
	"wrong types": (r) => {
		const wrong = [null, true, 0, 17.5, "text", [], {}, [1, 2], { a: 1 }];
		const shape = r.int(5);
		if (shape === 0)
			return {
				body: JSON.stringify(r.pick([null, true, 1, "records", [VALID], { records: r.pick(wrong.filter((w) => !Array.isArray(w))) }])),
			};
		if (shape === 1) return { body: JSON.stringify({ records: [VALID, r.pick(wrong)] }) };
		if (shape === 2) return { body: replaceField("timestamp", r.pick(wrong.filter((w) => typeof w !== "string"))) };
		if (shape === 3) return { body: replaceField("value", r.pick([null, true, [], {}, [1], { value: 1 }])) };
		return { body: withDims(r.pick([null, true, 1, "Client=a", [], [["custom:Client", "a"]]])) };
	},
	"bad values": (r) => {
		const bad = [
			() => r.pick(["NaN", "Infinity", "-Infinity", "+Inf", "nan"]),
			() => `-${1 + r.int(10_000)}`,
			() => -(1 + r.int(10_000)) / 10,
			() => `${1 + r.int(999)},${String(r.int(1000)).padStart(3, "0")}`,
			() => `${r.int(100)} ${r.int(1000)}`,
			() => r.pick(["", " ", "1e", "e5", "--1", "1..2", "0x1F", "1_000", "١٢٣", "１２３", "12abc", "$12", "12%"]),
			() => "9".repeat(309 + r.int(1000)), // overflows to Infinity
		];
		if (r.int(6) === 0) return { body: JSON.stringify({ records: [VALID] }).replace('"12.5"', `1e${309 + r.int(1000)}`) }; // a JSON number that parses to Infinity
		return { body: replaceField("value", r.pick(bad)()) };
	},
	"bad timestamps": (r) => {
		const bad = [
			() => r.pick(["", " ", "yesterday", "2024/06/01", "06-01-2024", "2024-6-1", "20240601", "2024-06", "2024"]),
			() => `2024-${String(13 + r.int(87)).padStart(2, "0")}-01`,
			() => `2023-02-${29 + r.int(3)}`,
			() => `2024-06-01T${24 + r.int(76)}:00:00Z`,
			() => `2024-06-01T00:${60 + r.int(40)}:00Z`,
			() => `2024-06-01T00:00:00+${15 + r.int(80)}:00`,
			() => `${1000 + r.int(899)}-01-01`,
			() => `${2100 + r.int(7000)}-01-01`, // far future
			() => `2024-06-01T00:00:00Z${r.chars("abc;'", 1)}${r.chars("abc;' ", r.int(5))}`,
			() => 1_700_000_000 + r.int(1000),
		];
		const field = r.pick(["sum", "replace", "delete"] as const);
		const value = r.pick(bad)();
		if (field === "delete")
			return { op: "delete", body: JSON.stringify({ records: [{ timestamp: VALID.timestamp }, { timestamp: value }] }) };
		return { op: field, body: replaceField("timestamp", value) };
	},
	"too many dimensions": (r) => {
		const dims: Record<string, string> = {};
		for (let i = 0; i < 6 + r.int(30); i++) dims[`custom:D${i}`] = `v${i}`;
		return { op: r.pick(["sum", "delete"] as const), body: withDims(dims) };
	},
	"lists and non-strings as dimension values": (r) => withRecordDims(r, r.pick([["a"], [], ["a", "b"], { v: "a" }, 1, 0, true, null, ""])),
	"__proto__ and constructor keys": (r) => {
		const key = r.pick(["__proto__", "constructor", "prototype", "toString", "hasOwnProperty"]);
		const where = r.int(4);
		if (where === 0) return { body: `{"records":[${JSON.stringify(VALID)}],"${key}":{"polluted":true}}` };
		if (where === 1) return { body: `{"records":[${JSON.stringify(VALID).slice(0, -1)},"${key}":{"value":"5"}}]}` };
		if (where === 2)
			return {
				body: `{"records":[${JSON.stringify({ ...VALID, associated_cost: undefined }).slice(0, -1)},"associated_cost":{"${key}":"x","custom:Client":"a","Region":"b"}}]}`,
			};
		return { body: `{"${key}":{"records":[${JSON.stringify(VALID)}]}}` };
	},
	"SQL-looking strings": (r) => {
		const sql = r.pick([
			"'; DROP TABLE daily_values; --",
			"1; DELETE FROM streams",
			'" OR 1=1 --',
			"1' UNION SELECT * FROM ingest_log --",
			"?1",
			"); --",
		]);
		const where = r.int(5);
		if (where === 0) return { body: replaceField("value", sql) };
		if (where === 1) return { body: replaceField("timestamp", `2024-06-01${sql}`) };
		if (where === 2) return { body: withDims({ ...DIMS, [sql]: "x" }) };
		if (where === 3) return { stream: encodeURIComponent(`fuzz${sql}`), body: JSON.stringify({ records: [VALID] }) };
		return { body: JSON.stringify({ records: [VALID], [sql]: 1 }) };
	},
	"very long strings": (r) => {
		const long = (n: number) => r.chars("abcdefghij0123456789", n);
		const where = r.int(5);
		if (where === 0) return { body: replaceField("value", "1".repeat(400 + r.int(100_000))) };
		if (where === 1) return { body: replaceField("timestamp", `2024-06-01T${long(1000 + r.int(100_000))}`) };
		if (where === 2) return { body: withDims({ "custom:Client": long(1025 + r.int(50_000)), Region: "us" }) };
		if (where === 3) return { body: withDims({ [`custom:${long(129 + r.int(5000))}`]: "a", Region: "us" }) };
		return { stream: `s${long(256 + r.int(2000))}`, body: JSON.stringify({ records: [VALID] }) };
	},
	unicode: (r) => {
		const where = r.int(5);
		if (where === 0) return { body: replaceField("value", r.pick(["١٢", "１２", "½", "12\u00a0", "\u20121", "1\u2009000", "𝟙𝟚"])) };
		if (where === 1)
			return { body: replaceField("timestamp", r.pick(["２０２４-06-01", "2024‐06‐01", "2024-06-01T00:00:00\u2212", "۲۰۲۴-06-01"])) };
		if (where === 2) return { body: withDims({ "custom:Client": r.pick(["\ud800", "a\udfffb", "\udc00\ud800"]), Region: "us" }) };
		if (where === 3)
			return {
				stream: encodeURIComponent(r.pick(["стрим", "流", "stream😀", "ｓｔｒｅａｍ"])),
				body: JSON.stringify({ records: [VALID] }),
			};
		// Bytes that are not UTF-8 at all.
		const bytes = new TextEncoder().encode(JSON.stringify({ records: [VALID] }));
		bytes[5 + r.int(bytes.length - 10)] = r.pick([0xff, 0xc0, 0xfe, 0x80]);
		return { body: new Response(bytes).body! };
	},
	"empty bodies": (r) => ({
		op: r.pick(["sum", "replace", "delete", ""] as const),
		body: r.pick(["", " ", "\n\t", "{}", "null", "[]", '{"records":[]}', '""', "0"]),
	}),
	"over 5 MB bodies": (r) => {
		const record = JSON.stringify(VALID);
		const count = Math.ceil(5_000_001 / (record.length + 1)) + r.int(100);
		const text = `{"records":[${Array(count).fill(record).join(",")}]}`;
		// With a Content-Length, and streamed without one (chunked), which is counted as it arrives.
		if (r.int(2) === 0) return { body: text };
		const bytes = new TextEncoder().encode(text);
		let offset = 0;
		return {
			body: new ReadableStream<Uint8Array>({
				pull(controller) {
					if (offset >= bytes.length) return controller.close();
					controller.enqueue(bytes.slice(offset, offset + 65_536));
					offset += 65_536;
				},
			}),
		};
	},
	"wrong content types": (r) => ({
		body: JSON.stringify({ records: [VALID] }),
		headers: {
			"Content-Type": r.pick([
				"text/plain",
				"application/x-www-form-urlencoded",
				"multipart/form-data; boundary=x",
				"application/xml",
				"text/json",
				"application/jsonx",
				"application",
				"*/*",
				"image/png",
			]),
		},
	}),
	"oversized header values": (r): BadRequest => {
		const big = r.chars("ABCDEFabcdef0123456789", 8_000 + r.int(8_000));
		const body = JSON.stringify({ records: [VALID] });
		const which = r.int(3);
		if (which === 0) return { body, headers: { Authorization: big } };
		if (which === 1) return { body, headers: { "Idempotency-Key": big } };
		return { body, headers: { "Content-Type": `application/${big}` } };
	},
	"inconsistent dimension keys": (r) => ({
		body: JSON.stringify({
			records: [VALID, { ...VALID, associated_cost: r.pick([{ "custom:Client": "a" }, { ...DIMS, "custom:Extra": "x" }, {}]) }],
		}),
	}),
};

function withRecordDims(r: Rng, value: unknown): BadRequest {
	return { op: r.pick(["sum", "replace", "delete"] as const), body: withDims({ ...DIMS, [r.pick(Object.keys(DIMS))]: value }) };
}

// ---- Cloudthread ingestion: the same kinds of bad input on POST /streams/ingest -----------------

const POINT = { timestamp: "2022-10-01 05:00:00", metric_name: "fuzz_metric", metric_value: 3.5, custom_dimensions: { team: "growth" } };
const ingestText = (body: Record<string, unknown>) => JSON.stringify({ data_stream_token: token, metric_agg_func: "Sum", ...body });
const withPoint = (point: Record<string, unknown>) => ({ path: "/streams/ingest", body: ingestText({ data: [POINT, point] }) });

const CLOUDTHREAD_CATEGORIES: Record<string, (r: Rng, i: number) => BadRequest> = {
	"ingest: broken JSON": (r) => {
		const text = ingestText({ data: [POINT] });
		for (;;) {
			const at = r.int(text.length);
			const candidate = r.int(2) ? text.slice(0, at) : text.slice(0, at) + r.pick(["{", "]", ",", "'", "\\"]) + text.slice(at);
			try {
				JSON.parse(candidate);
			} catch {
				return { path: "/streams/ingest", body: candidate };
			}
		}
	},
	"ingest: wrong types": (r) => {
		const wrong = r.pick([null, true, 7, "text", [], {}, [1]]);
		const where = r.int(4);
		if (where === 0) return { path: "/streams/ingest", body: ingestText({ data: r.pick([null, 1, "data", {}]) }) };
		if (where === 1) return { path: "/streams/ingest", body: ingestText({ data: [POINT, wrong] }) };
		if (where === 2) return withPoint({ ...POINT, [r.pick(["timestamp", "metric_name", "metric_value"])]: r.pick([null, true, [], {}]) });
		return withPoint({ ...POINT, custom_dimensions: r.pick([null, 1, "team=a", [], [["team", "a"]]]) });
	},
	"ingest: aggregation functions": (r) => ({
		path: "/streams/ingest",
		body: ingestText({
			metric_agg_func: r.pick(["sum", "SUM", "Median", "Count", "", " Sum", null, 1, ["Sum"], "Average,Sum"]),
			data: [POINT],
		}),
	}),
	"ingest: bad values": (r) =>
		withPoint({
			...POINT,
			metric_value: r.pick(["NaN", "Infinity", "-Infinity", "1,5", "", " ", "abc", "0x10", "9".repeat(400), "1e999", "١٢"]),
		}),
	"ingest: timestamps off the hour or invalid": (r) =>
		withPoint({
			...POINT,
			timestamp: r.pick([
				`2022-10-01 0${r.int(10)}:${String(1 + r.int(59)).padStart(2, "0")}:00`,
				`2022-10-01 05:00:${String(1 + r.int(59)).padStart(2, "0")}`,
				"2022-10-01T05:00:00.5Z",
				"2022-10-01T05:00:00+05:30",
				1_664_600_000 + 1 + r.int(3599),
				1_664_600_000.5,
				`202210010${r.int(10)}${String(1 + r.int(59)).padStart(2, "0")}00`,
				"2022-13-01 00:00:00",
				"2022-02-30 00:00:00",
				"2022-10-01 24:00:00",
				"yesterday",
				"",
				"2999-01-01 00:00:00",
			]),
		}),
	"ingest: too many dimensions": (r) => {
		const dims: Record<string, string> = {};
		for (let i = 0; i < 11 + r.int(40); i++) dims[`k${i}`] = `v${i}`;
		return withPoint({ ...POINT, custom_dimensions: dims });
	},
	"ingest: lists and non-strings as dimension values": (r) =>
		withPoint({ ...POINT, custom_dimensions: { team: r.pick([["a"], [], { v: "a" }, 1, true, null]) } }),
	"ingest: __proto__ and constructor keys": (r) => {
		const key = r.pick(["__proto__", "constructor", "prototype"]);
		const where = r.int(3);
		const point = JSON.stringify(POINT);
		if (where === 0) return { path: "/streams/ingest", body: ingestText({ data: [POINT] }).replace(/}$/, `,"${key}":{"x":1}}`) };
		if (where === 1)
			return {
				path: "/streams/ingest",
				body: ingestText({ data: [] }).replace('"data":[]', `"data":[${point.slice(0, -1)},"${key}":{"metric_value":9}}]`),
			};
		// Dimension keys are free-form here ("constructor" is a fine one); only __proto__ cannot be kept.
		return {
			path: "/streams/ingest",
			body: ingestText({ data: [] }).replace('"data":[]', `"data":[${point.replace('{"team":"growth"}', '{"__proto__":"x"}')}]`),
		};
	},
	"ingest: very long and unicode strings": (r) => {
		const long = r.chars("abcdefghij", 1025 + r.int(20_000));
		return withPoint(
			r.pick([
				{ ...POINT, metric_name: long },
				{ ...POINT, custom_dimensions: { team: long } },
				{ ...POINT, custom_dimensions: { [long]: "x" } },
				{ ...POINT, metric_name: "a\ud800" },
				{ ...POINT, custom_dimensions: { team: "\udc00" } },
			]),
		);
	},
	"ingest: empty bodies": (r) => ({ path: "/streams/ingest", body: r.pick(["", " ", "{}", "null", "[]", '""']) }),
};

// ---- Allocation telemetry: the same kinds of bad input, and what is its own (filters, elements, streams) --------

const ALLOCATION_STREAM = "fuzzed-allocation";
const ALLOCATION = {
	timestamp: "2024-06-01T00:00:00Z",
	granularity: "DAILY",
	filter: { "custom:Client": ["Patric Star"], Region: ["us-east-1", "eu-west-1"] },
	element_name: "customer-42",
	value: "12.5",
};
const allocationPath = (op: "sum" | "replace" | "delete" | "" = "sum", stream = ALLOCATION_STREAM) =>
	`/unit-cost/v1/telemetry/allocation/${stream}${op ? `/${op}` : ""}`;
const withAllocation = (record: Record<string, unknown>, op: "sum" | "replace" | "delete" | "" = "sum"): BadRequest => ({
	path: allocationPath(op),
	body: JSON.stringify({ records: [op === "delete" ? { ...ALLOCATION, value: undefined } : ALLOCATION, record] }),
});

const ALLOCATION_CATEGORIES: Record<string, (r: Rng, i: number) => BadRequest> = {
	"allocation: broken JSON": (r) => {
		const text = JSON.stringify({ records: [ALLOCATION] });
		for (;;) {
			const at = r.int(text.length);
			const candidate = r.int(2) ? text.slice(0, at) : text.slice(0, at) + r.pick(["{", "]", ",", "'", "\\"]) + text.slice(at);
			try {
				JSON.parse(candidate);
			} catch {
				return { path: allocationPath(r.pick(["sum", "replace", "delete", ""] as const)), body: candidate };
			}
		}
	},
	"allocation: wrong types": (r) => {
		if (r.int(5) === 0)
			return { path: allocationPath(), body: JSON.stringify({ records: r.pick([null, 1, "records", {}, [[]], [null]]) }) };
		const field = r.pick(["timestamp", "granularity", "filter", "element_name", "value"]);
		// Each of these is the wrong type for every field (a string is no wrong type for an element name or a value).
		const wrong = r.pick(
			[null, true, 7, "text", [], {}, [1], { a: 1 }].filter(
				(w) =>
					!(typeof w === (field === "value" ? "number" : "") || (typeof w === "string" && (field === "value" || field === "element_name"))),
			),
		);
		return withAllocation({ ...ALLOCATION, [field]: field === "filter" && JSON.stringify(wrong) === "{}" ? [] : wrong });
	},
	"allocation: granularities": (r) =>
		withAllocation(
			{
				...ALLOCATION,
				granularity: r.pick(["WEEKLY", "yearly", "", " DAILY", "DAILY ", "HOURLY,DAILY", "Dailly", "MONTH", "1", "\u0000"]),
			},
			r.pick(["sum", "replace", "delete"] as const),
		),
	"allocation: filters": (r) => {
		const kind = r.int(7);
		const many = (n: number, prefix: string) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
		const filter =
			kind === 0
				? Object.fromEntries(many(6 + r.int(20), "custom:K").map((k) => [k, ["v"]]))
				: kind === 1
					? { Region: many(21 + r.int(50), "v") }
					: kind === 2
						? { Region: [] }
						: kind === 3
							? { Region: r.pick(["us-east-1", 1, null, true, { v: "a" }]) }
							: kind === 4
								? { Region: [r.pick([1, null, true, ["a"], { v: "a" }, "", "x".repeat(1025 + r.int(2000)), "a\ud800"])] }
								: kind === 5
									? { [r.pick(["", " ", "x".repeat(129), "a\u0000b"])]: ["v"] }
									: r.pick([[["Region", "us"]], "Region=us", 1]);
		return withAllocation({ ...ALLOCATION, filter }, r.pick(["sum", "replace", "delete"] as const));
	},
	"allocation: element names": (r) => {
		const { element_name: _, ...rest } = ALLOCATION;
		const kind = r.int(4);
		if (kind === 0) return withAllocation(rest, r.pick(["sum", "replace", ""] as const));
		if (kind === 1) {
			const [a, b] = r.pick([
				["element_name", "element-name"],
				["element_name", "id"],
				["element-name", "id"],
			]);
			return withAllocation({ ...rest, [a]: "x", [b]: "y" }, r.pick(["sum", "replace", "delete"] as const));
		}
		const field = r.pick(["element_name", "element-name", "id"]);
		return withAllocation({ ...rest, [field]: r.pick(["", "x".repeat(1025 + r.int(5000)), 42, null, ["a"], { name: "a" }, "a\udc00"]) });
	},
	"allocation: telemetry-stream": (r) => {
		const kind = r.int(3);
		const legacy = { ...ALLOCATION, "telemetry-stream": ALLOCATION_STREAM };
		if (kind === 0) return { path: "/unit-cost/v1/telemetry", body: JSON.stringify({ records: [legacy, ALLOCATION] }) };
		if (kind === 1)
			return {
				path: "/unit-cost/v1/telemetry",
				body: JSON.stringify({
					records: [legacy, { ...legacy, "telemetry-stream": r.pick(["other", "..", ".", "has space", "", 5, null, "x".repeat(257)]) }],
				}),
			};
		return withAllocation(
			{ ...ALLOCATION, "telemetry-stream": r.pick(["other", "fuzzed", ".."]) },
			r.pick(["sum", "replace", "delete", ""] as const),
		);
	},
	"allocation: inconsistent with the stream or request": (r) => {
		const kind = r.int(4);
		if (kind === 0)
			return withAllocation(
				{ ...ALLOCATION, granularity: r.pick(["HOURLY", "MONTHLY", "hourly"]) },
				r.pick(["sum", "replace", "delete"] as const),
			);
		if (kind === 1)
			return withAllocation({ ...ALLOCATION, filter: r.pick([{}, { "custom:Client": ["a"] }, { ...ALLOCATION.filter, Extra: ["x"] }]) });
		if (kind === 2) {
			const { value: _, ...rest } = ALLOCATION;
			return withAllocation({ ...rest, filter: { Unknown: ["x"] } }, "delete");
		}
		// A new stream whose records disagree among themselves.
		return {
			path: allocationPath("sum", `fuzz-new-${r.int(1000)}`),
			body: JSON.stringify({
				records: [
					ALLOCATION,
					r.pick([
						{ ...ALLOCATION, granularity: "HOURLY" },
						{ ...ALLOCATION, filter: {} },
					]),
				],
			}),
		};
	},
	"allocation: __proto__ and constructor keys": (r) => {
		const key = r.pick(["__proto__", "constructor", "prototype"]);
		const record = JSON.stringify(ALLOCATION);
		const where = r.int(3);
		if (where === 0) return { path: allocationPath(), body: `{"records":[${record.slice(0, -1)},"${key}":{"value":"5"}}]}` };
		if (where === 1) return { path: allocationPath(), body: `{"records":[${record}],"${key}":{"x":1}}` };
		return { path: allocationPath(), body: `{"records":[${record.replace('"filter":{', `"filter":{"__proto__":["x"],`)}]}` };
	},
	"allocation: values": (r) =>
		withAllocation({ ...ALLOCATION, value: r.pick(["NaN", "-1", -2.5, "1,000", "", "1e400", "1e-400", "0x10", "١٢", "9".repeat(400)]) }),
	"allocation: too large": (r) => {
		if (r.int(2) === 0)
			return { path: allocationPath(), body: JSON.stringify({ records: Array.from({ length: 10_001 }, () => ALLOCATION) }) };
		const padding = "x".repeat(5_000_001);
		return {
			path: r.pick([allocationPath(), "/unit-cost/v1/telemetry"]),
			body: JSON.stringify({ records: [{ ...ALLOCATION, element_name: padding }] }),
		};
	},
};

let org: string;
let token: string;
const tried: Record<string, number> = {};

/** A fresh token of the same organization per category: each stays under the per-token rate limit. */
async function freshToken() {
	({ token } = await createToken(org));
}

beforeAll(async () => {
	org = uniqueOrg("fuzz");
	await freshToken();
	// The stream exists with fixed dimension keys, so writes reach every check.
	await expectAccepted(await write(token, STREAM, "sum", { records: [VALID] }));
	// So is the allocation stream, with its granularity and filter keys.
	await expectAccepted(
		await api(`/unit-cost/v1/telemetry/allocation/${ALLOCATION_STREAM}/sum`, {
			method: "POST",
			headers: { Authorization: token, "Content-Type": "application/json" },
			body: JSON.stringify({ records: [ALLOCATION] }),
		}),
	);
});

afterAll(() => {
	const total = Object.values(tried).reduce((a, b) => a + b, 0);
	console.info(
		[
			`bad-input suite (scale ${SCALE}): ${total} inputs`,
			...Object.entries(tried).map(([name, n]) => `  ${String(n).padStart(6)}  ${name}`),
		].join("\n"),
	);
});

async function send(req: BadRequest): Promise<Response> {
	const op = req.op ?? "sum";
	const path = req.path ?? `/unit-cost/v1/telemetry/metric/${req.stream ?? STREAM}${op ? `/${op}` : ""}`;
	const init: RequestInit & { duplex?: string } = {
		method: "POST",
		headers: { Authorization: token, "Content-Type": "application/json", ...req.headers },
		body: req.body,
	};
	if (req.body instanceof ReadableStream) init.duplex = "half";
	return api(path, init);
}

describe("bad input never causes a 5xx and never changes storage", () => {
	for (const [category, generate] of Object.entries({ ...CATEGORIES, ...CLOUDTHREAD_CATEGORIES, ...ALLOCATION_CATEGORIES })) {
		it(category, async () => {
			const r = seededRandom([...category].reduce((h, c) => Math.imul(h, 31) + c.charCodeAt(0), 7));
			await freshToken();
			const before = await storageSnapshot();
			// 5 MB bodies are costly to build: fewer of them.
			const count = category.startsWith("over 5 MB") || category === "allocation: too large" ? 2 * SCALE : PER_CATEGORY;
			for (let i = 0; i < count; i++) {
				const req = generate(r, i);
				const res = await send(req);
				const text = await res.text();
				const shown = typeof req.body === "string" ? req.body.slice(0, 300) : "(stream)";
				expect(res.status, `${category} #${i}: ${shown}\n→ ${text.slice(0, 500)}`).toBeGreaterThanOrEqual(400);
				expect(res.status, `${category} #${i}: ${shown}\n→ ${text.slice(0, 500)}`).toBeLessThan(500);
				const { error } = JSON.parse(text) as {
					error: { code: string; message: string; request_id: string; details?: Array<{ path?: string; record?: number }> };
				};
				expect(error.code, text).toMatch(/^[a-z_]+$/);
				expect(error.message.length, text).toBeGreaterThan(5);
				expect(error.request_id).toBe(res.headers.get("X-Request-Id"));
				const recordsField = req.path === "/streams/ingest" ? "data" : "records";
				for (const d of error.details ?? [])
					if (d.record !== undefined) expect(d.path, text).toMatch(new RegExp(`^${recordsField}\\[${d.record}\\]`));
			}
			tried[category] = count;
			expect(await storageSnapshot(), `${category} changed storage`).toBe(before);
		});
	}

	it("over 15 significant digits is not an error: the value is rounded, as CloudZero documents", async () => {
		await freshToken();
		const r = seededRandom(15);
		let count = 0;
		for (let i = 0; i < PER_CATEGORY; i++) {
			const digits = `${1 + r.int(9)}${r.chars("0123456789", 15 + r.int(10))}`;
			const dot = 1 + r.int(digits.length - 1);
			const value = `${digits.slice(0, dot)}.${digits.slice(dot)}`;
			const stream = `digits-${i}`;
			await expectAccepted(await write(token, stream, "replace", { records: [{ timestamp: "2024-06-01", value }] }));
			expect((await readStream(token, stream))[0].value).toBe(plainOf(Number(Number(value).toPrecision(15))));
			count++;
		}
		tried["over 15 significant digits (accepted, rounded)"] = count;
	});
});
