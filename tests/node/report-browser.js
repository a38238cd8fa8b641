// Load drydock's HTML report in the system's chromium (headless, driven by
// playwright-core, which never downloads a browser) and check it as a
// reader would.
//   node report-browser.js PAGE.html ROWS FAILED_CHECK|- SCREENSHOT.png
// ROWS: the rows the package tables must have in all; FAILED_CHECK: a
// check that must be shown as failed ("-": none may be).  Prints one
// JSON line with what it saw; exits 1 on any problem.
"use strict";
const path = require("path");
const { chromium } = require("playwright-core");

async function main() {
	const [page_file, rows, failed, shot] = process.argv.slice(2);
	const problems = [];
	const browser = await chromium.launch({
		executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
		headless: true,
		args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
			"--disable-component-update", "--disable-sync", "--no-first-run"],
	});
	try {
		const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
		const url = "file://" + path.resolve(page_file);
		page.on("console", (m) => { if (m.type() === "error") problems.push("console: " + m.text()); });
		page.on("pageerror", (e) => problems.push("page error: " + e.message));
		await page.route("**/*", (r) => {
			if (r.request().url() !== url) {
				problems.push("the page fetched " + r.request().url());
				return r.abort();
			}
			return r.continue();
		});
		await page.goto(url, { waitUntil: "load" });
		const seen = await page.evaluate(() => ({
			title: document.title,
			verdict: document.querySelector("#verdict")?.textContent || "",
			rows: document.querySelectorAll("table.packages tbody tr.package").length,
			failed: [...document.querySelectorAll("#checks-table tr.FAIL")].map((r) => r.dataset.check),
			scripts: document.querySelectorAll("script").length,
			injected: document.querySelectorAll("table.packages img, table.packages b").length,
		}));
		if (seen.rows !== Number(rows)) problems.push(`package rows: ${seen.rows}, expected ${rows}`);
		if (failed === "-" && seen.failed.length) problems.push("failed checks shown: " + seen.failed.join(", "));
		if (failed !== "-" && !seen.failed.includes(failed)) problems.push(`check ${failed} is not shown as failed`);
		if (seen.scripts || seen.injected) problems.push("markup from the run's data reached the page");
		await page.emulateMedia({ media: "print" });
		await page.screenshot({ path: shot, fullPage: true });
		console.log(JSON.stringify({ seen, problems, screenshot: shot }));
	} finally {
		await browser.close();
	}
	process.exit(problems.length ? 1 : 0);
}

main().catch((e) => { console.error(e); process.exit(2); });
