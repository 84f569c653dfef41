// Loads /docs (Swagger UI) in headless Chromium (Debian's package, driven by playwright-core) from
// the service in `wrangler dev`, with every request to another host refused: the page must render
// offline, list every operation of /openapi.json, show the JSON Schema 2020-12 keywords the document
// uses, and send "Try it out" requests to this origin, all under its Content-Security-Policy with no
// violation. Saves test-results/docs.png, docs-schema.png and docs-try.png. Run with
// `npm run test:browser` (ports 8813, 8814, 8817).
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { chromium } from "playwright-core";
import { ROOT, startService } from "./service.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const RESULTS = join(ROOT, "test-results");
const SCREENSHOT = join(RESULTS, "docs.png");
const SCHEMA_SCREENSHOT = join(RESULTS, "docs-schema.png");
const TRY_SCREENSHOT = join(RESULTS, "docs-try.png");

let service;
let browser;

before(async () => {
	assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
	service = await startService({ ports: [8813, 8814, 8817] });
	browser = await chromium.launch({
		executablePath: CHROMIUM,
		// No background connections to Google's services: this machine's network is closed.
		args: [
			"--no-sandbox",
			"--disable-gpu",
			"--disable-quic",
			"--no-first-run",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});
});
after(async () => {
	await browser?.close();
	await service?.stop();
});

it("renders the API reference from the Worker alone: every endpoint, 3.1 schemas, Try it out", async () => {
	const origin = new URL(service.url).origin;
	const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
	const external = [];
	const failed = [];
	// Anything from another host is refused and recorded: the page must not need it.
	await page.route("**/*", (route) => {
		const url = route.request().url();
		if (url.startsWith(origin) || url.startsWith("data:") || url.startsWith("blob:")) return route.continue();
		external.push(`${route.request().resourceType()} ${url}`);
		return route.abort();
	});
	page.on("requestfailed", (req) => failed.push(req.url()));
	const pageErrors = [];
	page.on("pageerror", (err) => pageErrors.push(String(err)));
	// Chromium reports each CSP violation twice: a console error and a securitypolicyviolation event.
	const cspConsole = [];
	page.on("console", (msg) => {
		if (msg.type() === "error" && /Content Security Policy/i.test(msg.text())) cspConsole.push(msg.text());
	});
	await page.addInitScript(() => {
		window.__cspViolations = [];
		document.addEventListener("securitypolicyviolation", (e) =>
			window.__cspViolations.push(
				`${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`,
			),
		);
	});

	const res = await page.goto(`${service.url}/docs`, { waitUntil: "networkidle" });
	assert.equal(res.status(), 200);
	const csp = res.headers()["content-security-policy"] ?? "";
	assert.match(csp, /default-src 'none'/, "the page is served without its Content-Security-Policy");
	// Scripts and styles only by the response's nonce: no inline script or style without it, no eval.
	assert.match(csp, /script-src 'nonce-([A-Za-z0-9_-]{22})'(;|$)/);
	const nonce = /script-src 'nonce-([A-Za-z0-9_-]{22})'/.exec(csp)[1];
	assert.match(csp, new RegExp(`style-src 'nonce-${nonce}'(;|$)`));
	assert.doesNotMatch(csp, /unsafe-/);
	assert.equal(await page.title(), "Meterline API");

	// Every operation of the document appears by its summary, operationId and path (Swagger UI's
	// operation rows, every tag open).
	const doc = await (await fetch(`${service.url}/openapi.json`)).json();
	const operations = Object.values(doc.paths).flatMap((item) => Object.values(item));
	assert.ok(operations.length >= 13, `only ${operations.length} operations documented`);
	await page.getByText("Sum records", { exact: true }).first().waitFor({ timeout: 30_000 });
	const text = await page.locator("body").textContent();
	assert.deepEqual(
		operations.map((op) => op.summary).filter((summary) => !text.includes(summary)),
		[],
		"operation summaries not shown",
	);
	assert.deepEqual(
		operations.map((op) => op.operationId).filter((id) => !text.includes(id)),
		[],
		"operationIds not shown",
	);
	for (const path of Object.keys(doc.paths)) assert.ok(text.includes(path), `path ${path} not shown`);
	for (const tag of doc.tags) assert.ok(text.includes(tag.name), `tag ${tag.name} not shown`);

	mkdirSync(RESULTS, { recursive: true });
	await page.screenshot({ path: SCREENSHOT });
	console.log(`screenshot: ${SCREENSHOT}`);

	// The 3.1 schemas render with their JSON Schema 2020-12 keywords: CloudthreadDataPoint has
	// propertyNames with a `not`, and a `not` enum; StreamList a type array (string or null).
	const schema = (name) =>
		page
			.locator("section.models article.json-schema-2020-12")
			.filter({ has: page.locator(".json-schema-2020-12__title", { hasText: new RegExp(`^${name}$`) }) })
			.first();
	const dataPoint = schema("CloudthreadDataPoint");
	await dataPoint.getByRole("button", { name: "Expand all" }).click();
	await dataPoint.getByText("Property names").first().waitFor();
	const dataPointText = await dataPoint.textContent();
	for (const shown of ["custom_dimensions", "Property names", "Not", '"__proto__"', "metric_name", '".."']) {
		assert.ok(dataPointText.includes(shown), `CloudthreadDataPoint does not show ${shown}`);
	}
	await dataPoint.screenshot({ path: SCHEMA_SCREENSHOT });
	console.log(`screenshot: ${SCHEMA_SCREENSHOT}`);
	const streamList = schema("StreamList");
	await streamList.getByRole("button", { name: "Expand all" }).click();
	await streamList.getByText("next_cursor").first().waitFor();
	assert.match(await streamList.textContent(), /next_cursor[\s\S]*string \| null/);

	// Try it out: a request to this origin (no token, so 403), its answer shown on the page.
	const list = page.locator("#operations-CloudZero_telemetry-listMetricStreams");
	await list.locator("button.opblock-summary-control").click();
	await list.getByRole("button", { name: "Try it out" }).click();
	const answered = page.waitForResponse((r) => r.url().startsWith(`${origin}/unit-cost/v1/telemetry/metric?`));
	await list.getByRole("button", { name: "Execute" }).click();
	assert.equal((await answered).status(), 403);
	const live = list.locator(".live-responses-table");
	await live.getByText("not_authorized").first().waitFor();
	await live.scrollIntoViewIfNeeded();
	await page.screenshot({ path: TRY_SCREENSHOT });
	console.log(`screenshot: ${TRY_SCREENSHOT}`);

	const blockedScripts = external.filter((r) => /^(script|stylesheet|font) /.test(r));
	assert.deepEqual(blockedScripts, [], "the page asked another host for scripts, styles or fonts");
	if (external.length > 0) console.log(`refused (not needed): ${external.join(", ")}`);
	assert.deepEqual(pageErrors, [], "JavaScript errors on the page");
	assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], "Content-Security-Policy violations");
	assert.deepEqual(cspConsole, [], "Content-Security-Policy errors in the console");
	assert.deepEqual(
		failed.filter((url) => url.startsWith(origin)),
		[],
		"requests to the Worker that failed",
	);
});
