'use strict';
// The browser half of t/90-browser-harness.t: the harness itself, with no
// webmail.  params: url (a page on loopback, certificate by the test CA),
// plain_url (a page with nothing remote on it), other_url (a page behind a
// self-signed certificate chromium was not told to trust).
const { run, BROWSER_OWN } = require('./lib');

run(async (b, t, params) => {
    const page = await b.page();
    const resp = await page.goto(params.url, { waitUntil: 'load' });
    t.eq(resp && resp.status(), 200,
        'the page loads over HTTPS with the test CA\'s certificate');
    t.eq(await page.evaluate(() => window.__ok), 1,
        'its external script ran (window.__ok is 1)');
    t.eq(await page.evaluate(() => document.querySelector('#remote')
        .naturalWidth), 0, 'the remote image did not load');

    const remote = b.takeRemote();
    t.eq(remote.map((r) => [r.url, r.type]),
        [['https://remote.example/x.png', 'image']],
        'the request for remote.example was recorded and blocked');
    t.data({ remote });

    const file = await b.shot(page, 'harness');
    t.data({ shot: file });

    // Without the route, the proxy trap is what stops a remote request.
    const bare = await b.newContext({ intercept: false });
    const p2 = await b.page(bare);
    let err = '';
    try {
        await p2.goto('https://remote.example/');
    } catch (e) {
        err = e.message;
    }
    t.like(err, /net::ERR_/, 'unrouted, remote.example does not load');
    const trapped = b.takeTrapped().filter((l) =>
        !BROWSER_OWN.some((re) => re.test(l)));
    t.ok(trapped.length > 0 && trapped.every((l) =>
        l.startsWith('CONNECT remote.example:443 ')),
    'unrouted, its connection went to the trap, and nothing else did',
    trapped);
    t.data({ trapped });
    // A loopback page is fetched directly, not through the trap.
    const p3 = await b.page(bare);
    const resp2 = await p3.goto(params.plain_url);
    t.eq(resp2 && resp2.status(), 200, 'unrouted, loopback still loads');
    t.eq(b.takeTrapped(), [], '... directly, not through the trap');

    // A certificate that is not the test CA's is still an error.
    err = '';
    try {
        await page.goto(params.other_url);
    } catch (e) {
        err = e.message;
    }
    t.like(err, /ERR_CERT_/,
        'an untrusted self-signed certificate is refused');
    // ... upon which Chromium checks for a captive portal (last, so that
    // it is not mistaken for anything else): refused at the trap too.
    const deadline = Date.now() + 5000;
    while (!b.trapped.length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 100));
    const own = b.takeTrapped();
    t.ok(own.every((l) => BROWSER_OWN.some((re) => re.test(l))),
        'after it, only the browser\'s captive portal check reached the trap',
        own);
});
