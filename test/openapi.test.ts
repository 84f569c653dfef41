import { describe, expect, it } from "vitest";
import { api } from "./helpers";

describe("probe", () => {
	it("doc", async () => {
		const res = await api("/openapi.json");
		const doc = await res.json();
		console.log(JSON.stringify(doc.paths["/unit-cost/v1/telemetry/metric/{name}/sum"], null, 1)); console.log(Object.keys(doc.paths)); console.log(JSON.stringify(doc.components.schemas.TelemetryRecord,null,1));
		const page = await api("/docs");
		console.log(page.status, (await page.text()).slice(0, 3000));
	});
});
