// Dashboard-free use: listing streams, reading values back, deleting whole streams.
import { beforeAll, describe, expect, it } from "vitest";
import { api, createToken, expectAccepted, expectError, json, type ReadRecord, readStream, uniqueOrg, write } from "./helpers";

let token: string;
const auth = () => ({ headers: { Authorization: token } });

beforeAll(async () => {
	({ token } = await createToken(uniqueOrg("read")));
	const records = [];
	for (const day of ["2024-01-01", "2024-01-02", "2024-01-03"]) {
		for (const client of ["Patric Star", "Sponge Bob", "Sandy, Cheeks"]) {
			records.push({ timestamp: day, value: "1.5", associated_cost: { "custom:Client": client, Region: "eu" } });
		}
	}
	await expectAccepted(await write(token, "clients", "sum", { records }), 9);
	await expectAccepted(await write(token, "plain", "sum", { records: [{ timestamp: "2024-02-01", value: 1 }] }));
});

describe("GET /unit-cost/v1/telemetry/metric", () => {
	it("lists the organization's streams with keys, first and last day, series count and creation time", async () => {
		const res = await api("/unit-cost/v1/telemetry/metric", auth());
		expect(res.status).toBe(200);
		const body = await res.json<{ streams: Array<Record<string, unknown>>; next_cursor: string | null }>();
		expect(body.next_cursor).toBeNull();
		expect(body.streams).toEqual([
			{
				name: "clients",
				dimension_keys: ["Region", "custom:Client"],
				first_day: "2024-01-01",
				last_day: "2024-01-03",
				series_count: 3,
				created_at: expect.any(String),
			},
			{
				name: "plain",
				dimension_keys: [],
				first_day: "2024-02-01",
				last_day: "2024-02-01",
				series_count: 1,
				created_at: expect.any(String),
			},
		]);
	});

	it("pages with limit and cursor", async () => {
		const first = await (await api("/unit-cost/v1/telemetry/metric?limit=1", auth())).json<{
			streams: Array<{ name: string }>;
			next_cursor: string;
		}>();
		expect(first.streams.map((s) => s.name)).toEqual(["clients"]);
		const second = await (await api(`/unit-cost/v1/telemetry/metric?limit=1&cursor=${first.next_cursor}`, auth())).json<{
			streams: Array<{ name: string }>;
			next_cursor: string | null;
		}>();
		expect(second.streams.map((s) => s.name)).toEqual(["plain"]);
		expect(second.next_cursor).toBeNull();
		await expectError(await api("/unit-cost/v1/telemetry/metric?limit=0", auth()), 400, "out_of_range");
	});
});

describe("GET /unit-cost/v1/telemetry/metric/{name}", () => {
	it("returns the daily values in the write shape, in date order", async () => {
		const records = await readStream(token, "clients");
		expect(records).toHaveLength(9);
		expect(records[0]).toEqual({
			timestamp: "2024-01-01",
			value: "1.5",
			associated_cost: { "custom:Client": "Patric Star", Region: "eu" },
		});
		expect(records.map((r) => r.timestamp)).toEqual([...records.map((r) => r.timestamp)].sort());
	});

	it("filters by date range and by dimension (repeating a key matches any of its values)", async () => {
		expect((await readStream(token, "clients", "start_date=2024-01-02&end_date=2024-01-02")).map((r) => r.timestamp)).toEqual([
			"2024-01-02",
			"2024-01-02",
			"2024-01-02",
		]);
		const patric = await readStream(token, "clients", "dim[custom:Client]=Patric%20Star");
		expect(patric.map((r) => [r.timestamp, r.associated_cost?.["custom:Client"]])).toEqual([
			["2024-01-01", "Patric Star"],
			["2024-01-02", "Patric Star"],
			["2024-01-03", "Patric Star"],
		]);
		const two = await readStream(
			token,
			"clients",
			"dim[custom:Client]=Patric%20Star&dim%5Bcustom%3AClient%5D=Sponge%20Bob&end_date=2024-01-01",
		);
		expect(two).toHaveLength(2);
		expect(await readStream(token, "clients", "dim[custom:Client]=Nobody")).toEqual([]);
	});

	it("pages through every row exactly once with limit and next_cursor", async () => {
		const seen: ReadRecord[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const query: string = `limit=4${cursor ? `&cursor=${cursor}` : ""}`;
			const page = await (await api(`/unit-cost/v1/telemetry/metric/clients?${query}`, auth())).json<{
				records: ReadRecord[];
				next_cursor: string | null;
			}>();
			seen.push(...page.records);
			cursor = page.next_cursor;
			pages++;
		} while (cursor);
		expect(pages).toBe(3);
		expect(seen).toEqual(await readStream(token, "clients"));
	});

	it("answers CSV with format=csv", async () => {
		const res = await api("/unit-cost/v1/telemetry/metric/clients?format=csv&end_date=2024-01-01", auth());
		expect(res.status).toBe(200);
		expect(res.headers.get("content-type")).toMatch(/^text\/csv/);
		expect(await res.text()).toBe(
			'timestamp,value,Region,custom:Client\r\n2024-01-01,1.5,eu,Patric Star\r\n2024-01-01,1.5,eu,Sponge Bob\r\n2024-01-01,1.5,eu,"Sandy, Cheeks"\r\n',
		);
		const paged = await api("/unit-cost/v1/telemetry/metric/clients?format=csv&limit=2", auth());
		expect(paged.headers.get("X-Next-Cursor")).toBeTruthy();
	});

	it("omits associated_cost for a stream without dimensions", async () => {
		expect(await readStream(token, "plain")).toEqual([{ timestamp: "2024-02-01", value: "1" }]);
	});

	it("rejects bad queries", async () => {
		await expectError(await api("/unit-cost/v1/telemetry/metric/clients?dim[custom:Nope]=x", auth()), 400, "unknown_filter_keys");
		await expectError(
			await api("/unit-cost/v1/telemetry/metric/clients?start_date=2024-02-01&end_date=2024-01-01", auth()),
			400,
			"invalid_date_range",
		);
		await expectError(await api("/unit-cost/v1/telemetry/metric/clients?start_date=2024-02-30", auth()), 400, "invalid_date");
		await expectError(await api("/unit-cost/v1/telemetry/metric/clients?cursor=garbage", auth()), 400, "invalid_cursor");
		await expectError(await api("/unit-cost/v1/telemetry/metric/clients?format=xml", auth()), 400, "invalid_value");
		const bare = await expectError(
			await api("/unit-cost/v1/telemetry/metric/clients?custom:Client=x&limt=3", auth()),
			400,
			"invalid_filter",
		);
		expect(bare.details?.map((d) => d.path)).toEqual(["custom:Client", "limt"]);
		await expectError(await api("/unit-cost/v1/telemetry/metric/clients?limit=50001", auth()), 400, "out_of_range");
		await expectError(await api("/unit-cost/v1/telemetry/metric/missing", auth()), 404, "stream_not_found");
	});
});

describe("DELETE /unit-cost/v1/telemetry/{name}", () => {
	it("refuses a stream with data unless forced, then hides it and frees the name", async () => {
		await expectAccepted(
			await write(token, "doomed", "sum", { records: [{ timestamp: "2024-01-01", value: 3, associated_cost: { Region: "eu" } }] }),
		);
		await expectError(
			await api("/unit-cost/v1/telemetry/doomed", { method: "DELETE", headers: { Authorization: token } }),
			409,
			"stream_not_empty",
		);
		await expectError(
			await api("/unit-cost/v1/telemetry/doomed", json("DELETE", { force: "yes" }, { Authorization: token })),
			400,
			"invalid_type",
		);
		// A body of null is not an absent body: it is refused, not read as {"force": false}.
		await expectError(await api("/unit-cost/v1/telemetry/doomed", json("DELETE", "null", { Authorization: token })), 400, "invalid_type");
		expect(await readStream(token, "doomed")).toHaveLength(1);

		const res = await api("/unit-cost/v1/telemetry/doomed", json("DELETE", { force: true }, { Authorization: token }));
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ message: "Stream deleted", stream: "doomed" });
		await expectError(await api("/unit-cost/v1/telemetry/metric/doomed", auth()), 404, "stream_not_found");
		await expectError(
			await api("/unit-cost/v1/telemetry/doomed", json("DELETE", { force: true }, { Authorization: token })),
			404,
			"stream_not_found",
		);

		// The name is free again, with new dimension keys, and the old data stays hidden.
		await expectAccepted(
			await write(token, "doomed", "sum", { records: [{ timestamp: "2024-01-01", value: 4, associated_cost: { "custom:New": "n" } }] }),
		);
		expect(await readStream(token, "doomed")).toEqual([{ timestamp: "2024-01-01", value: "4", associated_cost: { "custom:New": "n" } }]);
	});

	it("deletes a stream whose values were all deleted without force", async () => {
		await expectAccepted(await write(token, "emptied", "sum", { records: [{ timestamp: "2024-01-01", value: 3 }] }));
		await expectAccepted(await write(token, "emptied", "delete", { records: [{ timestamp: "2024-01-01" }] }));
		expect((await api("/unit-cost/v1/telemetry/emptied", { method: "DELETE", headers: { Authorization: token } })).status).toBe(200);
	});
});
