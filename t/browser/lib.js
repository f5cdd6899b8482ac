'use strict';
// The browser side of the real-browser tests: Debian's chromium, headless,
// driven by playwright-core.  A test is a Node script that calls run():
//
//   const { run } = require('./lib');
//   run(async (b, t, params) => {
//     const page = await b.page();
//     await page.goto(params.url);
//     t.eq(await page.title(), 'Inbox', 'the inbox shows');
//     await b.shot(page, 'inbox');
//   });
//
// It is started by t/lib/browser.py (from a Python .t that has started
// maild), which passes params as JSON in argv[2] and turns the JSON lines
// this prints on stdout into TAP.
//
// No request leaves for a remote host, three times over:
//  - every request of every page, frame and worker of a context goes
//    through a route that lets loopback through and records and aborts the
//    rest (b.remote); service workers are blocked so none escapes it;
//  - chromium's own proxy is a trap on loopback (b.trapped): whatever gets
//    past the route (or comes from the browser itself) is recorded there
//    and refused, never connected onward;
//  - host names other than localhost resolve to nothing, and background
//    networking, component updates, sync, default apps, domain
//    reliability and network time queries are off; the sign-in and
//    component update services that Chromium 156 asks for even so are
//    pointed at a dead loopback port; WebRTC uses no UDP that would go
//    around the proxy.
//    (Without those, the trap sees update.googleapis.com,
//    clients2.google.com and accounts.google.com at every start.)
//    One request is left that none of the switches tried turns off: after
//    a certificate error Chromium checks for a captive portal with a GET
//    of http://connectivitycheck.gstatic.com/generate_204.  It ends at
//    the trap like the rest; b.close() names it and lets it pass.
// b.close() (called by run() at the end) checks that both lists are empty:
// a test that expects a blocked request takes it out with b.takeRemote().
//
// Certificates: only the key hashes in MAILD_BROWSER_SPKI (by default the
// key of the certificate test maild instances serve) are trusted despite
// errors; any other bad certificate fails.
// Every wait is bounded; the whole script is killed after params.timeout_ms.

const fs = require('fs');
const net = require('net');
const path = require('path');
const util = require('util');
const { chromium, firefox } = require('playwright-core');

// Which browser: Debian's chromium (the default), or with
// MAILD_BROWSER=firefox Debian's Firefox ESR, which playwright-core drives
// over WebDriver BiDi (its "moz-firefox" channel) as it comes, unpatched.
const KIND = process.env.MAILD_BROWSER === 'firefox' ? 'firefox' : 'chromium';
const CHROMIUM = process.env.MAILD_CHROMIUM || '/usr/bin/chromium';
const FIREFOX = process.env.MAILD_FIREFOX || '/usr/bin/firefox-esr';
const EXECUTABLE = KIND === 'firefox' ? FIREFOX : CHROMIUM;
const ARTEFACTS = process.env.MAILD_ARTEFACTS ||
    path.join(__dirname, '..', 'artefacts');
const STEP_TIMEOUT = 10000;        // one action, one wait
const NAV_TIMEOUT = 15000;         // one navigation

// One --disable-features, so that nothing depends on how chromium reads two:
// playwright-core's own (as in the pinned version: keep in step with
// package.json) is left out and given again with ours.  The time queries
// of the network time tracker do not count as background networking.
const PW_DISABLED_FEATURES = [
    'AvoidUnnecessaryBeforeUnloadCheckSync',
    'BoundaryEventDispatchTracksNodeRemoval', 'DestroyProfileOnBrowserClose',
    'DialMediaRouteProvider', 'GlobalMediaControls', 'HttpsUpgrades',
    'LensOverlay', 'MediaRouter', 'PaintHolding',
    'ThirdPartyStoragePartitioning', 'Translate', 'AutoDeElevate',
    'RenderDocument', 'OptimizationHints', 'msForceBrowserSignIn',
    'msEdgeUpdateLaunchServicesPreferredVersion',
];
const PW_DISABLED_FEATURES_ARG =
    '--disable-features=' + PW_DISABLED_FEATURES.join(',');
// Filling a form asks Google's autofill servers for field types unless
// AutofillServerCommunication is off.
const DISABLED_FEATURES = [...PW_DISABLED_FEATURES,
    'NetworkTimeServiceQuerying', 'AutofillServerCommunication'];
// What the browser itself sends that no switch stops: refused at the trap.
const BROWSER_OWN = [
    /^GET http:\/\/connectivitycheck\.gstatic\.com\/generate_204 /,
];

// base64 SHA-256 of the style element playwright adds before a screenshot
const SCREENSHOT_STYLE_SHA256 = 'YjaKGiklmzC6wjXA513HAMmzus8VE61XCOT+SmwNZWA=';

function emit(ev) {
    process.stdout.write(JSON.stringify(ev) + '\n');
}

// Test results, one JSON line each; t/lib/browser.py numbers them as TAP.
class T {
    constructor() { this.failed = 0; }

    ok(cond, name, diag) {
        cond = !!cond;
        if (!cond)
            this.failed++;
        const ev = { t: 'ok', ok: cond, name };
        if (!cond && diag !== undefined)
            ev.diag = typeof diag === 'string' ? diag : util.inspect(diag);
        emit(ev);
        return cond;
    }

    eq(got, want, name) {
        return this.ok(util.isDeepStrictEqual(got, want), name,
            'got:  ' + util.inspect(got) + '\nwant: ' + util.inspect(want));
    }

    like(got, pattern, name) {
        const s = String(got);
        const found = pattern instanceof RegExp ? pattern.test(s)
            : s.includes(pattern);
        return this.ok(found, name, 'got:  ' + util.inspect(got) +
            '\nwant something matching: ' + util.inspect(pattern));
    }

    skip(name, reason) {
        emit({ t: 'skip', name, reason });
    }

    diag(msg) {
        emit({ t: 'diag', msg: String(msg) });
    }

    // Values for the Python side (Result.data), e.g. what was blocked.
    data(obj) {
        emit({ t: 'data', data: obj });
    }
}

function isLoopback(hostname) {
    const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
    return h === 'localhost' || h.endsWith('.localhost') || h === '::1' ||
        /^127\.\d+\.\d+\.\d+$/.test(h);
}

// The proxy chromium is given: it records the first line of what it is
// sent (CONNECT host:port, or GET http://...) and answers 403.
function startTrap(trapped) {
    return new Promise((resolve, reject) => {
        const srv = net.createServer((sock) => {
            let buf = '';
            sock.setTimeout(STEP_TIMEOUT, () => sock.destroy());
            sock.on('error', () => {});
            sock.on('data', (d) => {
                buf += d.toString('latin1');
                const eol = buf.indexOf('\r\n');
                if (eol < 0 && buf.length < 4096)
                    return;
                trapped.push(eol < 0 ? buf.slice(0, 200) : buf.slice(0, eol));
                sock.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n' +
                    'Connection: close\r\n\r\n');
            });
        });
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve(srv));
    });
}

class Browser {
    constructor(t, name) {
        this.t = t;
        this.kind = KIND;       // 'chromium' or 'firefox'
        this.name = name;
        this.remote = [];       // requests the route blocked
        this.trapped = [];      // what reached the trap proxy
        this.contexts = [];
        this.shots = 0;
    }

    async launch() {
        this.trap = await startTrap(this.trapped);
        if (KIND === 'firefox')
            return this.launchFirefox();
        const spki = (process.env.MAILD_BROWSER_SPKI || '').split(',')
            .filter(Boolean);
        const args = [
            '--disable-features=' + DISABLED_FEATURES.join(','),
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
            '--disable-default-apps',
            '--disable-domain-reliability',
            '--disable-client-side-phishing-detection',
            '--no-pings',
            '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, ' +
                'EXCLUDE 127.0.0.1',
            // what the browser itself still asks for, sent to a dead port
            '--gaia-url=http://127.0.0.1:9/',
            '--component-updater=url-source=http://127.0.0.1:9/',
            '--force-webrtc-ip-handling-policy=disable_non_proxied_udp',
            '--proxy-server=http://127.0.0.1:' + this.trap.address().port,
        ];
        if (spki.length)
            args.push('--ignore-certificate-errors-spki-list=' +
                spki.join(','));
        this.browser = await chromium.launch({
            executablePath: CHROMIUM,
            headless: true,
            args,
            ignoreDefaultArgs: [PW_DISABLED_FEATURES_ARG],
            timeout: 30000,
            handleSIGINT: false,
        });
        this.context = await this.newContext();
        return this;
    }

    // Firefox: playwright-core's profile already turns off updates,
    // telemetry, safe browsing and the connectivity checks, and points
    // their servers at a dummy host; every other connection it makes goes
    // to the trap, as chromium's do (loopback is never proxied).  Firefox
    // has no switch that trusts one key despite errors, so its contexts
    // accept any certificate: the test servers are on loopback, and
    // chromium's run checks the certificate.
    async launchFirefox() {
        const port = this.trap.address().port;
        this.browser = await firefox.launch({
            channel: 'moz-firefox',
            executablePath: FIREFOX,
            headless: true,
            timeout: 60000,
            handleSIGINT: false,
            // a release build reads services.settings.server only then
            env: { ...process.env, MOZ_REMOTE_SETTINGS_DEVTOOLS: '1' },
            firefoxUserPrefs: {
                'network.proxy.type': 1,
                'network.proxy.http': '127.0.0.1',
                'network.proxy.http_port': port,
                'network.proxy.ssl': '127.0.0.1',
                'network.proxy.ssl_port': port,
                'network.proxy.no_proxies_on': 'localhost, 127.0.0.1',
                'network.proxy.allow_hijacking_localhost': false,
                'network.trr.mode': 5,
                'network.captive-portal-service.enabled': false,
                'network.dns.disablePrefetch': true,
                'network.prefetch-next': false,
                'network.predictor.enabled': false,
                'media.peerconnection.enabled': false,
                // remote settings (blocklists and such) and add-on
                // metadata, asked for at every start
                'services.settings.server': 'http://127.0.0.1:9/v1',
                'extensions.getAddons.cache.enabled': false,
            },
        });
        this.context = await this.newContext();
        return this;
    }

    // A new context (its own cookies and storage).  intercept: false leaves
    // out the route, so only the trap proxy stands between it and the
    // network: for the harness's own test of the trap.
    async newContext(options = {}) {
        const { intercept = true, ...rest } = options;
        const ctx = await this.browser.newContext({
            viewport: { width: 1280, height: 800 },
            locale: 'en-US',
            timezoneId: 'UTC',
            serviceWorkers: 'block',
            acceptDownloads: false,
            ignoreHTTPSErrors: KIND === 'firefox',
            ...rest,
        });
        ctx.setDefaultTimeout(STEP_TIMEOUT);
        ctx.setDefaultNavigationTimeout(NAV_TIMEOUT);
        if (intercept) {
            await ctx.route('**/*', (route) => {
                const req = route.request();
                let host = '';
                try { host = new URL(req.url()).hostname; } catch (e) { }
                if (isLoopback(host))
                    return route.continue();
                this.remote.push({ url: req.url(), method: req.method(),
                    type: req.resourceType() });
                return route.abort('blockedbyclient');
            });
        }
        ctx.on('weberror', (e) => {
            // playwright's own "body {}" before each screenshot, which the
            // app's CSP refuses in Firefox (chromium lets playwright past)
            if (KIND === 'firefox' && String(e.error()).includes(
                'sha256-' + SCREENSHOT_STYLE_SHA256))
                return;
            this.t.diag('page error: ' + e.error());
        });
        this.contexts.push(ctx);
        return ctx;
    }

    async page(ctx) {
        const p = await (ctx || this.context).newPage();
        p.on('console', (m) => {
            if (m.type() === 'error')
                this.t.diag('console error: ' + m.text());
        });
        return p;
    }

    // A screenshot of the whole page kept as a test artefact:
    // $MAILD_ARTEFACTS/<test name>/<name>.png.  Returns its path.
    async shot(page, name) {
        const dir = path.join(ARTEFACTS, this.name);
        fs.mkdirSync(dir, { recursive: true });
        const file = path.join(dir, name.replace(/[^\w.-]/g, '_') + '.png');
        await page.screenshot({ path: file, fullPage: true,
            timeout: STEP_TIMEOUT });
        this.shots++;
        emit({ t: 'shot', path: file });
        return file;
    }

    // The blocked requests and trapped connections so far, emptied: for a
    // test that expects some.
    takeRemote() { return this.remote.splice(0); }
    takeTrapped() { return this.trapped.splice(0); }

    async close() {
        if (this.browser)
            await this.browser.close().catch(() => {});
        if (this.trap)
            this.trap.close();
        this.t.eq(this.remote.map((r) => r.url), [],
            'no request for a remote host (blocked by the route)');
        const own = this.trapped.filter((l) => BROWSER_OWN.some((re) =>
            re.test(l)));
        for (const l of own)
            this.t.diag('refused at the trap (the browser\'s own): ' + l);
        this.t.eq(this.trapped.filter((l) => !own.includes(l)), [],
            'nothing reached the proxy trap (no request got past the route)');
    }
}

// Run a test: fn(b, t, params), then the checks of b.close().  A thrown
// error fails the test with its stack and leaves a screenshot of every
// open page.  Exits 0 when every check passed.
function run(fn) {
    let params = {};
    try {
        params = JSON.parse(process.argv[2] || '{}');
    } catch (e) {
        emit({ t: 'ok', ok: false, name: 'params are JSON', diag: e.stack });
        process.exit(2);
    }
    const name = params.name ||
        path.basename(process.argv[1] || 'browser', '.js');
    const t = new T();
    const limit = params.timeout_ms || 60000;
    setTimeout(() => {
        t.ok(false, 'browser script finished within ' + limit + ' ms');
        process.exit(3);    // playwright kills the browser on exit
    }, limit).unref();
    const b = new Browser(t, name);
    (async () => {
        try {
            await b.launch();
        } catch (e) {
            t.ok(false, KIND + ' starts (' + EXECUTABLE + ')', e.stack);
            emit({ t: 'end', failed: t.failed });
            process.exit(1);
        }
        try {
            await fn(b, t, params);
        } catch (e) {
            t.ok(false, 'browser script ran without an exception', e.stack);
            let n = 0;
            for (const ctx of b.contexts)
                for (const p of ctx.pages())
                    await b.shot(p, 'failure-' + (++n)).catch(() => {});
        }
        await b.close();
        emit({ t: 'end', failed: t.failed });
        process.exit(t.failed ? 1 : 0);
    })();
}

module.exports = { run, isLoopback, BROWSER_OWN, CHROMIUM, ARTEFACTS, KIND };
