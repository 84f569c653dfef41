// Allocation telemetry as the real clients send it, and the write semantics they rely on.
// The three clients' request shapes are reproduced exactly (paths, headers, field names and
// types, value formats, timestamps), as read from their sources; only the base URL differs.
import { env } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";
import { allocate, allocationLog, deleteAllocationStream, postTelemetry, readAllocation, readRows, rec } from "./allocation-helpers";
import { api, createToken, expectAccepted, expectError, readStream, uniqueOrg, write } from "./helpers";

let token: string;
beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("alloc-happy")));
});

/** A raw JSON request as a Python client sends it: requests' json= (", " and ": " separators), the raw key. */
function pythonPost(path: string, bodyText: string, headers: Record<string, string> = {}) {
	return api(path, { method: "POST", headers: { Authorization: token, "Content-Type": "application/json", ...headers }, body: bodyText });
}

describe("CloudZero's UCA toolkit (stream_type allocation)", () => {
	// uca/interfaces/uca_api.py: POST {base}/unit-cost/v1/telemetry/{stream_type}/{stream_name}/{transmit_type}, headers
	// Authorization: <key> and Content-Type: application/json, body {"records": chunk} of up to 3,000 events; transmit_type
	// defaults to replace ("update" is sent as replace). Events are the template rendered per CSV row: quick start
	// scenario 1 renders "element_name" (its documented output shows "element-name"), HOURLY, a filter of lists, and
	// values as strings with the configured precision ("10.0000" with precision 4).
	const event = (hour: string, customer: string, product: string, value: string, elementField = "element_name") => ({
		timestamp: `2024-02-08 ${hour}:00:00+00:00`,
		granularity: "HOURLY",
		[elementField]: customer,
		filter: { "custom:product": [product] },
		value,
	});
	const scenario1 = [
		event("00", "customer 1", "product A", "10.0000"),
		event("00", "customer 2", "product A", "10.0000"),
		event("00", "customer 3", "product A", "20.0000"),
		event("00", "customer 4", "product A", "30.0000"),
		event("00", "customer 5", "product A", "30.0000"),
		event("01", "customer 1", "product B", "10.0000"),
		event("01", "customer 2", "product B", "10.0000"),
		event("01", "customer 3", "product B", "20.0000"),
		event("01", "customer 4", "product B", "30.0000"),
		event("01", "customer 5", "product B", "30.0000"),
	];

	it("replace (its default): the quick start's hourly records are stored per hour, product and customer", async () => {
		const res = await pythonPost(
			"/unit-cost/v1/telemetry/allocation/product-cost-per-customer-v1/replace",
			JSON.stringify({ records: scenario1 }).replace(/,"/g, ', "').replace(/":/g, '": '),
		);
		expect(await expectAccepted(res, 10)).toMatchObject({
			operation: "replace",
			stream: "product-cost-per-customer-v1",
			stream_created: true,
		});
		const read = await readAllocation(token, "product-cost-per-customer-v1");
		expect(read).toHaveLength(10);
		expect(read[0]).toEqual({
			timestamp: "2024-02-08T00:00:00Z",
			granularity: "HOURLY",
			filter: { "custom:product": ["product A"] },
			element_name: "customer 1",
			value: "10",
		});
		expect(read.map((r) => [r.timestamp.slice(11, 13), r.filter["custom:product"][0], r.element_name, r.value])).toContainEqual([
			"01",
			"product B",
			"customer 4",
			"30",
		]);
		// Sent again (a re-run of transmit): replace stores the same values, not twice.
		await expectAccepted(
			await pythonPost("/unit-cost/v1/telemetry/allocation/product-cost-per-customer-v1/replace", JSON.stringify({ records: scenario1 })),
			10,
		);
		expect(await readAllocation(token, "product-cost-per-customer-v1")).toEqual(read);
	});

	it("sum, and the element spelled element-name as its documented output shows", async () => {
		const records = scenario1.map((e) => {
			const { element_name, ...rest } = e as Record<string, unknown>;
			return { ...rest, "element-name": element_name };
		});
		await expectAccepted(await allocate(token, "uca-sum", "sum", { records }), 10);
		await expectAccepted(await allocate(token, "uca-sum", "sum", { records }), 10);
		const rows = await readRows(token, "uca-sum");
		expect(rows.filter(([, element]) => element === "customer 3")).toEqual([
			["2024-02-08T00:00:00Z", "customer 3", "40"],
			["2024-02-08T01:00:00Z", "customer 3", "40"],
		]);
	});

	it("scenario 2: DAILY copies for each day; MONTHLY is expanded by the toolkit into DAILY records", async () => {
		const daily = ["2024-02-09", "2024-02-10"].flatMap((day) =>
			["customer 1", "customer 2"].map((customer) => ({
				timestamp: `${day} 00:00:00+00:00`,
				granularity: "DAILY",
				element_name: customer,
				filter: { "custom:product": ["product A"] },
				value: "10.0000",
			})),
		);
		await expectAccepted(await allocate(token, "uca-daily", "replace", { records: daily }), 4);
		expect(await readRows(token, "uca-daily")).toEqual([
			["2024-02-09", "customer 1", "10"],
			["2024-02-09", "customer 2", "10"],
			["2024-02-10", "customer 1", "10"],
			["2024-02-10", "customer 2", "10"],
		]);
	});

	it("delete: the toolkit drops each record's value and posts to /delete", async () => {
		await expectAccepted(await allocate(token, "uca-delete", "replace", { records: scenario1 }), 10);
		const deletes = scenario1.slice(0, 5).map(({ value: _value, ...rest }) => rest);
		const res = await expectAccepted(await allocate(token, "uca-delete", "delete", { records: deletes }), 5);
		expect(res.values_deleted).toBe(5);
		expect((await readRows(token, "uca-delete")).map(([t]) => t)).toEqual(Array(5).fill("2024-02-08T01:00:00Z"));
	});

	it("the first record format: id for the element, telemetry-stream in each record (from the toolkit's own data and README)", async () => {
		const records = [
			{ timestamp: "2021-03-22 00:00:00+00:00", granularity: "DAILY", id: "StateEx", filter: {}, value: 40.0 },
			{ timestamp: "2021-04-01 00:00:00+00:00", granularity: "DAILY", id: "Hooli", filter: {}, value: 23.0 },
		];
		await expectAccepted(
			await pythonPost("/unit-cost/v1/telemetry/allocation/test-data/replace", JSON.stringify({ records }).replace(/\.0\b/g, ".0000")),
			2,
		);
		const withStream = { records: [{ ...records[0], "telemetry-stream": "test-data", value: "1073641" }] };
		await expectAccepted(await allocate(token, "test-data", "replace", withStream), 1);
		expect(await readRows(token, "test-data")).toEqual([
			["2021-03-22", "StateEx", "1073641"],
			["2021-04-01", "Hooli", "23"],
		]);
	});
});

describe("cloudzero-usage-data-shipper", () => {
	// cz_telem_shipper.py: POST https://api.cloudzero.com/unit-cost/v1/telemetry/allocation/{stream}/replace in chunks of
	// 3,000, headers Authorization (raw key) and Content-Type: application/json, body {"records": chunk}. Each CSV row
	// becomes {"timestamp": "<as in the CSV>", "granularity": "HOURLY"|"DAILY", "filter": {<cost: column minus
	// "cost:">: <value split on "|">}, "value": <the integer usage>, "element_name": "<principal, or its mapped name>"}.
	const rows = [
		["2024-03-31 14:00:00Z", "DAILY", 833971, "62a1b8151dee4543bc85b0d263c3cad2", "finops@example.com", "us-east-1|us-west-2"],
		["2024-03-31 14:00:00Z", "DAILY", 193809, "alice", "finops@example.com", "us-east-1"],
		["2024-03-31 14:00:00Z", "DAILY", 127628, "eve", "finops@example.com", "us-west-2"],
		["2024-03-31 14:00:00Z", "DAILY", 117118, "bob", "finops@example.com", "us-west-2|us-east-1"],
	] as const;
	const records = rows.map(([timestamp, granularity, usage, principal, owner, region]) => ({
		timestamp,
		granularity,
		filter: { "custom:Technical Owner": [owner], region: region.split("|") },
		value: usage,
		element_name: principal,
	}));

	it("replace from the shipper's CSV: filter value lists in any order are one filter group", async () => {
		// Python's json.dump with indent=4 writes the file; requests re-serializes it with json=.
		const res = await pythonPost(
			"/unit-cost/v1/telemetry/allocation/finops-test-stream-regional/replace",
			JSON.stringify({ records }, null, 4),
		);
		await expectAccepted(res, 4);
		const read = await readAllocation(token, "finops-test-stream-regional");
		// In (period, filter group, element) order: the groups in the order they were first written.
		expect(read.map((r) => [r.element_name, r.filter.region, r.value])).toEqual([
			["62a1b8151dee4543bc85b0d263c3cad2", ["us-east-1", "us-west-2"], "833971"],
			["bob", ["us-east-1", "us-west-2"], "117118"],
			["alice", ["us-east-1"], "193809"],
			["eve", ["us-west-2"], "127628"],
		]);
		// us-east-1|us-west-2 and us-west-2|us-east-1 are the same group (canonical filter): one group, two elements.
		const groups = await env.DB.prepare(
			"SELECT g.filter FROM allocation_filter_groups g JOIN allocation_streams s ON s.id = g.stream_id WHERE s.name = 'finops-test-stream-regional' AND s.deleted_at IS NULL ORDER BY g.id",
		).all<{ filter: string }>();
		expect(groups.results.map((g) => JSON.parse(g.filter).region)).toEqual([["us-east-1", "us-west-2"], ["us-east-1"], ["us-west-2"]]);
		expect(read.every((r) => r.timestamp === "2024-03-31")).toBe(true);
	});

	it("an HOURLY row stamped at :05 counts for its hour; a file of 3,000 rows is one request", async () => {
		const hourly = Array.from({ length: 3000 }, (_, i) => ({
			timestamp: `2024-02-13 ${String(i % 24).padStart(2, "0")}:05:00Z`,
			granularity: "HOURLY",
			filter: { k8s_cluster: ["document"], region: ["us-west-1"] },
			value: 1 + (i % 7),
			element_name: `tenant-${i % 50}`,
		}));
		await expectAccepted(await allocate(token, "cpu-ms-for-document-scan", "replace", { records: hourly }), 3000);
		const read = await readAllocation(token, "cpu-ms-for-document-scan", "limit=5000");
		// One value per (hour, tenant) sent, each the request's total of its records there (replace adds them up first).
		expect(read).toHaveLength(new Set(hourly.map((r) => `${r.timestamp.slice(0, 13)}|${r.element_name}`)).size);
		expect(read.length).toBe(600);
		const total = read.reduce((sum, r) => sum + Number(r.value), 0);
		expect(total).toBe(hourly.reduce((sum, r) => sum + r.value, 0));
		expect(read[0].timestamp).toBe("2024-02-13T00:00:00Z");
	});
});

describe("cloudzero-telemetry-library", () => {
	// snowflake_queries/shared/util/telemetry.py: POST urljoin(base_url, '/unit-cost/v1/telemetry') with headers
	// Authorization (raw key), Content-Type: application/json and User-Agent: CloudZero-Snowflake-Telemetry/1.0; each
	// record {"granularity": "hourly", "element-name": ..., "filter": {...: [...]}, "telemetry-stream": <stream>,
	// "value": <float>, "timestamp": <datetime.isoformat(): no offset, microseconds when it has them>}.
	const headers = { "User-Agent": "CloudZero-Snowflake-Telemetry/1.0" };
	const body = `{"records": [{"granularity": "hourly", "element-name": "abc||analytics||proj||prod||api", "filter": {"custom:Snowflake Warehouse": ["compute_wh"]}, "telemetry-stream": "snowflake-telemetry", "value": 8123.0, "timestamp": "2024-02-08T13:00:00"}, {"granularity": "hourly", "element-name": "unknown||unknown||unknown||unknown||unknown", "filter": {"custom:Snowflake Warehouse": ["compute_wh"]}, "telemetry-stream": "snowflake-telemetry", "value": 12.5, "timestamp": "2024-02-08T13:00:00"}]}`;

	it("POST /unit-cost/v1/telemetry sums into the stream each record names", async () => {
		const res = await pythonPost("/unit-cost/v1/telemetry", body, headers);
		expect(await expectAccepted(res, 2)).toMatchObject({ operation: "sum", stream: "snowflake-telemetry", stream_created: true });
		await expectAccepted(await pythonPost("/unit-cost/v1/telemetry", body, headers), 2);
		expect(await readRows(token, "snowflake-telemetry")).toEqual([
			["2024-02-08T13:00:00Z", "abc||analytics||proj||prod||api", "16246"],
			["2024-02-08T13:00:00Z", "unknown||unknown||unknown||unknown||unknown", "25"],
		]);
		expect((await readAllocation(token, "snowflake-telemetry"))[0].granularity).toBe("HOURLY");
		const log = await allocationLog(token, "snowflake-telemetry");
		expect(log.map((e) => [e.operation, e.record_count])).toEqual([
			["sum", 2],
			["sum", 2],
		]);
	});

	it("test_connection(): value 0.0, a timestamp with microseconds, filter {'test': ['connection']}", async () => {
		const now = new Date()
			.toISOString()
			.replace("Z", "")
			.replace(/\.(\d{3})$/, ".$1123");
		const res = await pythonPost(
			"/unit-cost/v1/telemetry",
			`{"records": [{"granularity": "hourly", "element-name": "test-connection", "filter": {"test": ["connection"]}, "telemetry-stream": "test-stream", "value": 0.0, "timestamp": "${now}"}]}`,
			headers,
		);
		await expectAccepted(res, 1);
		const [read] = await readAllocation(token, "test-stream");
		expect(read).toMatchObject({ element_name: "test-connection", filter: { test: ["connection"] }, value: "0", granularity: "HOURLY" });
		expect(read.timestamp).toBe(`${now.slice(0, 13)}:00:00Z`);
	});
});

describe("CloudZero's reference examples and write semantics", () => {
	const HOOLI = {
		timestamp: "2020-01-25T00:00:00Z",
		granularity: "DAILY",
		filter: { "custom:feature": ["billing"], "tag:environment": ["prod"], "tag:owner": ["frank", "sandy"] },
		element_name: "<HOOLI-CUSTOMER-ID>",
	};

	it("sum 250M, replace it with 150M, then soft-delete it; the bare path sums like /sum", async () => {
		const stream = "my-allocation-stream";
		const sum = await expectAccepted(await allocate(token, stream, "sum", { records: [{ ...HOOLI, value: "250000000" }] }), 1);
		expect(sum).toMatchObject({ operation: "sum", stream, stream_created: true });
		await expectAccepted(await allocate(token, stream, "bare", { records: [{ ...HOOLI, value: "1" }] }), 1);
		expect(await readRows(token, stream)).toEqual([["2020-01-25", "<HOOLI-CUSTOMER-ID>", "250000001"]]);
		await expectAccepted(await allocate(token, stream, "replace", { records: [{ ...HOOLI, value: "150000000" }] }), 1);
		expect(await readAllocation(token, stream)).toEqual([{ ...HOOLI, timestamp: "2020-01-25", value: "150000000" }]);
		const del = await expectAccepted(await allocate(token, stream, "delete", { records: [HOOLI] }), 1);
		expect(del.values_deleted).toBe(1);
		expect(await readAllocation(token, stream)).toEqual([]);
		const kept = await env.DB.prepare("SELECT value FROM deleted_allocation_values WHERE period = '2020-01-25' AND request_id = ?")
			.bind(del.request_id)
			.all();
		expect(kept.results).toEqual([{ value: 150000000 }]);
		// A later sum starts again from zero.
		await expectAccepted(await allocate(token, stream, "sum", { records: [{ ...HOOLI, value: 7 }] }), 1);
		expect(await readRows(token, stream)).toEqual([["2020-01-25", "<HOOLI-CUSTOMER-ID>", "7"]]);
	});

	it("the first telemetry API's example: element-name and telemetry-stream", async () => {
		const record = { ...HOOLI, "telemetry-stream": "billing-records-processed", value: "250000000" };
		const { element_name, ...legacy } = record;
		await expectAccepted(await postTelemetry(token, { records: [{ ...legacy, "element-name": element_name }] }), 1);
		expect(await readRows(token, "billing-records-processed")).toEqual([["2020-01-25", "<HOOLI-CUSTOMER-ID>", "250000000"]]);
	});

	it("filters are canonical: key order, value order and repeated values do not make another group", async () => {
		const stream = "canonical";
		await expectAccepted(
			await allocate(token, stream, "sum", {
				records: [rec({ filter: { b: ["y", "x"], a: ["1"] }, value: 1 }), rec({ filter: { a: ["1", "1"], b: ["x", "y", "x"] }, value: 2 })],
			}),
			2,
		);
		expect(await readAllocation(token, stream)).toEqual([
			{ timestamp: "2024-02-08", granularity: "DAILY", filter: { a: ["1"], b: ["x", "y"] }, element_name: "customer 1", value: "3" },
		]);
	});

	it("replace adds a request's records of one period, filter and element first, and leaves the others alone", async () => {
		const stream = "replace-totals";
		await expectAccepted(
			await allocate(token, stream, "sum", { records: [rec({ value: 100 }), rec({ element_name: "customer 2", value: 5 })] }),
		);
		await expectAccepted(
			await allocate(token, stream, "replace", {
				records: [rec({ timestamp: "2024-02-08T01:00:00Z", value: 1 }), rec({ timestamp: "2024-02-08T23:59:59Z", value: 2 })],
			}),
		);
		expect(await readRows(token, stream)).toEqual([
			["2024-02-08", "customer 1", "3"],
			["2024-02-08", "customer 2", "5"],
		]);
	});

	it("MONTHLY: one value per UTC calendar month, dated its first day; offsets are converted to UTC first", async () => {
		const stream = "monthly";
		await expectAccepted(
			await allocate(token, stream, "sum", {
				records: [
					rec({ granularity: "monthly", timestamp: "2024-01-31T23:30:00-01:00", value: 1 }), // 2024-02-01T00:30Z
					rec({ granularity: "MONTHLY", timestamp: "2024-02-29", value: 2 }),
					rec({ granularity: "Monthly", timestamp: "2024-03-01T00:00:00+01:00", value: 4 }), // 2024-02-29T23:00Z
				],
			}),
		);
		expect(await readAllocation(token, stream)).toEqual([
			{
				timestamp: "2024-02-01",
				granularity: "MONTHLY",
				filter: { "custom:product": ["product A"] },
				element_name: "customer 1",
				value: "7",
			},
		]);
		// A read from mid-month includes the month.
		expect(await readRows(token, stream, "start_date=2024-02-15&end_date=2024-02-20")).toEqual([["2024-02-01", "customer 1", "7"]]);
		expect(await readRows(token, stream, "start_date=2024-03-01")).toEqual([]);
	});

	it("a stream without filter keys, read back and sent again unchanged", async () => {
		const stream = "no-filter";
		await expectAccepted(
			await allocate(token, stream, "replace", {
				records: [{ timestamp: "2024-02-08", granularity: "DAILY", element_name: "Email", value: 100045 }],
			}),
		);
		const read = await readAllocation(token, stream);
		expect(read).toEqual([{ timestamp: "2024-02-08", granularity: "DAILY", filter: {}, element_name: "Email", value: "100045" }]);
		await expectAccepted(await allocate(token, stream, "replace", { records: read }));
		expect(await readAllocation(token, stream)).toEqual(read);
	});

	it("a metric stream and an allocation stream may share a name", async () => {
		await expectAccepted(await write(token, "shared", "sum", { records: [{ timestamp: "2024-02-08", value: 5 }] }));
		await expectAccepted(await allocate(token, "shared", "sum", { records: [rec({ value: 6 })] }));
		expect(await readStream(token, "shared")).toEqual([{ timestamp: "2024-02-08", value: "5" }]);
		expect(await readRows(token, "shared")).toEqual([["2024-02-08", "customer 1", "6"]]);
	});
});

describe("delete matching", () => {
	const stream = "delete-matching";
	beforeAll(async () => {
		const records = ["2024-02-08", "2024-02-09"].flatMap((day) =>
			[["a"], ["a", "b"], ["b"]].flatMap((region) =>
				["c1", "c2"].map((element) => ({
					timestamp: day,
					granularity: "DAILY",
					filter: { region, team: ["t"] },
					element_name: element,
					value: 1,
				})),
			),
		);
		await expectAccepted(await allocate(token, stream, "replace", { records }), 12);
	});

	it("by element and exact filter values (any order); a key not given matches any values", async () => {
		const one = await expectAccepted(
			await allocate(token, stream, "delete", {
				records: [{ timestamp: "2024-02-08T10:00:00Z", granularity: "daily", filter: { region: ["b", "a"] }, element_name: "c1" }],
			}),
		);
		expect(one.values_deleted).toBe(1);
		const byFilter = await expectAccepted(
			await allocate(token, stream, "delete", { records: [{ timestamp: "2024-02-08", granularity: "DAILY", filter: { region: ["a"] } }] }),
		);
		expect(byFilter.values_deleted).toBe(2);
		const read = await readAllocation(token, stream, "end_date=2024-02-08");
		expect(read.map((r) => [r.filter.region.join("|"), r.element_name])).toEqual([
			["a|b", "c2"],
			["b", "c1"],
			["b", "c2"],
		]);
		// The whole period, with the element only.
		const byElement = await expectAccepted(
			await allocate(token, stream, "delete", { records: [{ timestamp: "2024-02-09", granularity: "DAILY", id: "c2" }] }),
		);
		expect(byElement.values_deleted).toBe(3);
		const whole = await expectAccepted(
			await allocate(token, stream, "delete", { records: [{ timestamp: "2024-02-09", granularity: "DAILY" }] }),
		);
		expect(whole.values_deleted).toBe(3);
		expect(await readRows(token, stream, "start_date=2024-02-09")).toEqual([]);
	});
});

describe("reading, listing and deleting allocation streams", () => {
	it("reads filter by dim[...] (a value the group lists) and by element, page with cursors, and export CSV", async () => {
		const stream = "readable";
		const records = Array.from({ length: 30 }, (_, i) => ({
			timestamp: `2024-01-${String(1 + i).padStart(2, "0")}`,
			granularity: "DAILY",
			filter: { region: i % 3 === 0 ? ["eu", "us"] : ["us"], "tag:env": ["=1+1"] },
			element_name: `customer-${i % 4}`,
			value: i + 0.5,
		}));
		await expectAccepted(await allocate(token, stream, "sum", { records }), 30);
		expect(await readAllocation(token, stream, "dim[region]=eu")).toHaveLength(10);
		expect(await readAllocation(token, stream, "dim[region]=eu&dim[region]=us")).toHaveLength(30);
		expect((await readAllocation(token, stream, "element=customer-1")).map((r) => r.element_name)).toEqual(Array(8).fill("customer-1"));
		expect(await readAllocation(token, stream, "element=customer-1&dim[region]=eu&start_date=2024-01-05&end_date=2024-01-10")).toEqual([
			{
				timestamp: "2024-01-10",
				granularity: "DAILY",
				filter: { region: ["eu", "us"], "tag:env": ["=1+1"] },
				element_name: "customer-1",
				value: "9.5",
			},
		]);
		const pages: AllocationRows = [];
		let cursor: string | null = "";
		while (cursor !== null) {
			const res = await api(`/unit-cost/v1/telemetry/allocation/${stream}?limit=7${cursor ? `&cursor=${cursor}` : ""}`, {
				headers: { Authorization: token },
			});
			const page = await res.json<{ records: AllocationRows; next_cursor: string | null }>();
			pages.push(...page.records);
			cursor = page.next_cursor;
		}
		expect(pages).toEqual(await readAllocation(token, stream, "limit=100"));
		const csv = await api(`/unit-cost/v1/telemetry/allocation/${stream}?format=csv&element=customer-0&limit=2`, {
			headers: { Authorization: token },
		});
		expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
		expect(csv.headers.get("X-Next-Cursor")).not.toBeNull();
		expect(await csv.text()).toBe(
			'timestamp,granularity,element_name,value,region,tag:env\r\n2024-01-01,DAILY,customer-0,0.5,"[""eu"",""us""]","[""=1+1""]"\r\n2024-01-05,DAILY,customer-0,4.5,"[""us""]","[""=1+1""]"\r\n',
		);
	});

	it("lists streams with granularity, filter keys, first and last period and live elements; deletes a stream", async () => {
		const { token: own } = await createToken(uniqueOrg("alloc-list"));
		await expectAccepted(
			await allocate(own, "b-stream", "sum", { records: [rec({ granularity: "HOURLY", timestamp: "2024-02-08T05:10:00Z" })] }),
		);
		await expectAccepted(
			await allocate(own, "a-stream", "sum", { records: [rec(), rec({ element_name: "customer 2", timestamp: "2024-02-10" })] }),
		);
		const list = await api("/unit-cost/v1/telemetry/allocation", { headers: { Authorization: own } });
		const body = await list.json<{ streams: Array<Record<string, unknown>>; next_cursor: string | null }>();
		expect(body.streams.map(({ created_at: _c, ...s }) => s)).toEqual([
			{
				name: "a-stream",
				granularity: "DAILY",
				filter_keys: ["custom:product"],
				first_timestamp: "2024-02-08",
				last_timestamp: "2024-02-10",
				element_count: 2,
			},
			{
				name: "b-stream",
				granularity: "HOURLY",
				filter_keys: ["custom:product"],
				first_timestamp: "2024-02-08T05:00:00Z",
				last_timestamp: "2024-02-08T05:00:00Z",
				element_count: 1,
			},
		]);
		// A delete keeps the summary true.
		await expectAccepted(await allocate(own, "a-stream", "delete", { records: [{ timestamp: "2024-02-10", granularity: "DAILY" }] }));
		const after = await (await api("/unit-cost/v1/telemetry/allocation?limit=1", { headers: { Authorization: own } })).json<any>();
		expect(after.streams[0]).toMatchObject({ name: "a-stream", last_timestamp: "2024-02-08", element_count: 1 });
		expect(after.next_cursor).toBe("a-stream");

		await expectError(await deleteAllocationStream(own, "a-stream"), 409, "stream_not_empty");
		const removed = await deleteAllocationStream(own, "a-stream", { force: true });
		expect(removed.status).toBe(200);
		expect(await removed.json()).toMatchObject({ message: "Stream deleted", stream: "a-stream" });
		await expectError(
			await api("/unit-cost/v1/telemetry/allocation/a-stream", { headers: { Authorization: own } }),
			404,
			"stream_not_found",
		);
		// The name is free again, with another granularity and other filter keys; the log outlives the stream.
		await expectAccepted(await allocate(own, "a-stream", "sum", { records: [rec({ granularity: "MONTHLY", filter: { team: ["x"] } })] }));
		expect((await allocationLog(own, "a-stream")).map((e) => e.operation)).toEqual(["sum", "delete_stream", "delete", "sum"]);
	});
});

type AllocationRows = Awaited<ReturnType<typeof readAllocation>>;
