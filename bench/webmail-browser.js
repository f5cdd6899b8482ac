'use strict';
// The browser half of bench/webmail.py: Debian's chromium, headless, kept
// on loopback by t/browser/lib.js's run() (every other host resolves to
// nothing, background networking off, a route and a trap proxy behind).
// For each round and each webmail (the order alternating by round): a new
// context (no cookies, no cache: a first visit), the login page loaded,
// the form filled, then the time from the click on the submit button to
// the first page of the list, measured twice:
//  - by the driver (wall): from before Playwright's click to its
//    waitForSelector seeing the rows visible (rows in the DOM and laid
//    out), Playwright's own round trips to the browser included;
//  - in the page (inpage): the click event's time on the login page
//    (performance.timeOrigin + event.timeStamp, kept in sessionStorage:
//    the same origin and tab) to the rows painted on the page that shows
//    them, noted by an init script on every document of the context
//    (a MutationObserver sees the rows in the DOM; the frame after is
//    the next requestAnimationFrame, and the paint the task after that
//    frame, as the user sees it; Element Timing's renderTime of the rows,
//    when Chromium gives it, is the time the frame with them was
//    presented: none when the first row was painted before the last one
//    arrived, as it marks only what is not painted yet).  Roundcube's rows come from its own request after its
//    page is loaded: the observer is on every document, so on that one.
// Each in two modes (params.modes): "route", every request through the
// harness's route, which makes Playwright turn Chromium's HTTP cache off
// (the login page's app.css and app.js are fetched again after it), and
// "cache", the route left out as a user's browser has none: the trap
// proxy and the host resolver rules of t/browser/lib.js still keep it on
// loopback (t/90-browser-harness.t tests that), and b.close() checks
// that nothing reached the trap.
// params: sides [{name, url, user, password}], rounds, rows (how many
// rows the first page has), modes (["route"] by default), detail (true: also where the time went, from
// the final page's Navigation and Resource Timing).
const { run } = require('../t/browser/lib');

// What each page calls its form and its rows.
const KINDS = {
    maild: { path: '/login', user: '#user', password: '#password',
        submit: 'button[type=submit]', row: 'ul.messages li[data-uid]' },
    // maild's pages again from memory, and a bare form and bare rows
    // (bench/replay.py)
    replay: { path: '/login', user: '#user', password: '#password',
        submit: 'button[type=submit]', row: 'ul.messages li[data-uid]' },
    bare: { path: '/login', user: '#user', password: '#password',
        submit: 'button[type=submit]', row: 'ul.messages li[data-uid]' },
    roundcube: { path: '/', user: '#rcmloginuser', password: '#rcmloginpwd',
        submit: '#rcmloginsubmit', row: '#messagelist tr.message' },
};

// Runs in every document of the context before its own scripts (CDP's
// addScriptToEvaluateOnNewDocument: the pages' CSP does not apply).
// arg: { submit, row, rows }.  Leaves its findings in window.__bench.
function inPage(arg) {
    const KEY = '__bench_click';
    const now = () => performance.timeOrigin + performance.now();
    const res = window.__bench = { done: false };
    // the login page: the click's time, for the next document
    window.addEventListener('click', (e) => {
        if (e.target instanceof Element && e.target.closest(arg.submit))
            sessionStorage.setItem(KEY, JSON.stringify({
                t: performance.timeOrigin + e.timeStamp,
                date: Date.now() }));
    }, true);
    let click = null;
    try {
        click = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    } catch (e) { }
    if (!click)
        return;
    res.click = click.t;
    res.clickDate = click.date;
    const rendered = [];
    const take = (entries) => {
        for (const e of entries)
            if (e.identifier === '__bench_row')
                rendered.push(performance.timeOrigin + e.renderTime);
    };
    let po = null;
    if (typeof PerformanceObserver === 'function' &&
        (PerformanceObserver.supportedEntryTypes || []).includes('element')) {
        po = new PerformanceObserver((list) => take(list.getEntries()));
        po.observe({ type: 'element', buffered: true });
    }
    function finish() {
        if (po) {
            take(po.takeRecords());
            po.disconnect();
        }
        res.element = rendered.length ? Math.max(...rendered) : null;
        const nav = performance.getEntriesByType('navigation')[0];
        if (nav) {
            const o = performance.timeOrigin;
            res.nav = { start: o, redirect: nav.redirectEnd ? o +
                nav.redirectEnd : null, request: o + nav.requestStart,
                response: o + nav.responseStart, responseEnd: o +
                nav.responseEnd, interactive: o + nav.domInteractive,
                dcl: o + nav.domContentLoadedEventEnd };
        }
        res.resources = performance.getEntriesByType('resource').map((r) =>
            ({ name: r.name.replace(/^https?:\/\/[^/]+/, ''),
               start: performance.timeOrigin + r.startTime,
               end: performance.timeOrigin + r.responseEnd,
               size: r.transferSize }));
        res.fcp = null;
        for (const p of performance.getEntriesByType('paint'))
            if (p.name === 'first-contentful-paint')
                res.fcp = performance.timeOrigin + p.startTime;
        res.done = true;
    }
    const mo = new MutationObserver(() => {
        const rows = document.querySelectorAll(arg.row);
        if (rows.length < arg.rows)
            return;
        mo.disconnect();
        res.dom = now();
        res.domDate = Date.now();
        // Element Timing names the elements marked before their first
        // paint: the first and the last row and what is in them
        for (const r of [rows[0], rows[rows.length - 1]])
            for (const el of [r, ...r.querySelectorAll('*')])
                el.setAttribute('elementtiming', '__bench_row');
        requestAnimationFrame(() => {
            res.frame = now();
            const ch = new MessageChannel();
            ch.port1.onmessage = () => {
                res.painted = now();
                res.paintedDate = Date.now();
                // Element Timing's entries come when the frame has
                // been presented: wait for them (a second at most)
                const until = performance.now() + 1000;
                (function wait() {
                    if (po)
                        take(po.takeRecords());
                    if (po && !rendered.length && performance.now() < until)
                        setTimeout(wait, 10);
                    else
                        finish();
                })();
            };
            ch.port2.postMessage(0);
        });
    });
    mo.observe(document, { childList: true, subtree: true });
}

// One login: the time by the driver's clock and what the page noted.
async function login(b, t, s, params, mode, label) {
    const k = KINDS[s.name];
    const ctx = await b.newContext({ intercept: mode === 'route' });
    await ctx.addInitScript(inPage, { submit: k.submit, row: k.row,
        rows: params.rows });
    const page = await b.page(ctx);
    await page.goto(s.url + k.path);
    await page.fill(k.user, s.user);
    await page.fill(k.password, s.password);
    const t0 = Date.now();
    await page.click(k.submit, { noWaitAfter: true });
    await page.waitForSelector(k.row, { state: 'visible', timeout: 30000 });
    const wall = Date.now() - t0;
    const n = await page.$$eval(k.row, (els) => els.length);
    t.eq(n, params.rows, label + ': the first page of the list has ' +
        params.rows + ' rows');
    await page.waitForFunction(() => window.__bench && window.__bench.done,
        null, { timeout: 10000 });
    const p = await page.evaluate(() => window.__bench);
    await ctx.close();
    // the page's clock against the driver's: the click is after t0, the
    // paint before the driver saw the rows
    t.ok(p.clickDate >= t0 - 1 && p.paintedDate - p.clickDate <= wall + 1,
        label + ': the in-page time is within the wall time',
        { t0, wall, p });
    return { wall, p };
}

run(async (b, t, params) => {
    // route: every request through the harness's route (Playwright then
    // turns the HTTP cache off); cache: the route left out, as a user's
    // browser (the trap proxy and the host resolver rules still keep it
    // on loopback, and b.close() checks that nothing reached the trap)
    const modes = params.modes || ['route'];
    const ms = {}, inpage = {}, detail = {};
    for (const mode of modes) {
        ms[mode] = {};
        inpage[mode] = {};
        detail[mode] = {};
        for (const s of params.sides) {
            ms[mode][s.name] = [];
            inpage[mode][s.name] = { dom: [], painted: [], element: [] };
            detail[mode][s.name] = [];
        }
    }
    for (let r = 0; r < params.rounds; r++) {
        const order = r % 2 ? [...params.sides].reverse() : params.sides;
        for (const mode of r % 2 ? [...modes].reverse() : modes)
            for (const s of order) {
                const { wall, p } = await login(b, t, s, params, mode,
                    s.name + ' (' + mode + '), round ' + (r + 1));
                ms[mode][s.name].push(wall);
                const ip = inpage[mode][s.name];
                ip.dom.push(p.dom - p.click);
                ip.painted.push(p.painted - p.click);
                if (p.element !== null)
                    ip.element.push(p.element - p.click);
                if (!params.detail)
                    continue;
                const rel = (x) => x === null || x === undefined ? null :
                    Math.round((x - p.click) * 10) / 10;
                const d = { wall, dom: rel(p.dom), frame: rel(p.frame),
                    painted: rel(p.painted), element: rel(p.element),
                    fcp: rel(p.fcp), nav: {}, resources: [] };
                for (const [key, v] of Object.entries(p.nav || {}))
                    d.nav[key] = rel(v);
                for (const x of p.resources)
                    d.resources.push({ name: x.name, start: rel(x.start),
                        end: rel(x.end), size: x.size });
                detail[mode][s.name].push(d);
            }
    }
    t.data({ login_to_rows_ms: ms, inpage_ms: inpage,
        detail: params.detail ? detail : undefined });
});
