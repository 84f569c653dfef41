// Loads /docs in headless Chromium (Debian's package, driven by playwright-core) from the service
// in `wrangler dev`, with every request to another host refused: the page must render offline and
// list every operation of /openapi.json, under its Content-Security-Policy with no violation. Saves test-results/docs.png. Run with `npm run test:browser`
// (ports 8813, 8814, 8817).
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { chromium } from "playwright-core";
import { ROOT, startService } from "./service.mjs";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = join(ROOT, "test-results", "docs.png");

let service;
let browser;

before(async () => {
	assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)`);
	service = await startService({ ports: [8813, 8814, 8817] });
	browser = await chromium.launch({
		executablePath: CHROMIUM,
		// No background connections to Google's services: this machine's network is closed.
		args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
	});
});
after(async () => {
	await browser?.close();
	await service?.stop();
});

it("renders the API reference from the Worker alone, listing every endpoint", async () => {
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
			window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || "(inline)"} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`),
		);
	});

	const res = await page.goto(`${service.url}/docs`, { waitUntil: "networkidle" });
	assert.equal(res.status(), 200);
	const csp = res.headers()["content-security-policy"] ?? "";
	assert.match(csp, /default-src 'none'/, "the page is served without its Content-Security-Policy");
	// Scripts only by the response's nonce: no inline script without it, no eval.
	assert.match(csp, /script-src 'nonce-[A-Za-z0-9_-]{22}'(;|$)/);
	assert.equal(await page.title(), "Meterline API");

	// Every operation of the document appears by its summary (Scalar's sidebar and sections).
	const doc = await (await fetch(`${service.url}/openapi.json`)).json();
	const summaries = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.summary));
	assert.ok(summaries.length >= 13, `only ${summaries.length} operations documented`);
	await page.getByText(summaries[0], { exact: true }).first().waitFor({ timeout: 30_000 });
	const text = await page.locator("body").innerText();
	const missing = summaries.filter((summary) => !text.includes(summary));
	assert.deepEqual(missing, [], "operations not shown on the page");
	for (const path of Object.keys(doc.paths)) assert.ok(text.includes(path), `path ${path} not shown`);

	mkdirSync(join(ROOT, "test-results"), { recursive: true });
	await page.screenshot({ path: SCREENSHOT });
	console.log(`screenshot: ${SCREENSHOT}`);

	const blockedScripts = external.filter((r) => /^(script|stylesheet|font) /.test(r));
	assert.deepEqual(blockedScripts, [], "the page asked another host for scripts, styles or fonts");
	if (external.length > 0) console.log(`refused (not needed): ${external.join(", ")}`);
	assert.deepEqual(pageErrors, [], "JavaScript errors on the page");
	assert.deepEqual(await page.evaluate(() => window.__cspViolations), [], "Content-Security-Policy violations");
	assert.deepEqual(cspConsole, [], "Content-Security-Policy errors in the console");
	assert.deepEqual(failed.filter((url) => url.startsWith(origin)), [], "requests to the Worker that failed");
});
