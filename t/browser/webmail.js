'use strict';
// The browser half of t/81-webmail-browser.t (chromium) and
// t/82-webmail-firefox.t (Firefox ESR): the webmail in a real browser.  params: url (the webmail), user, password, smtp_port (to
// deliver a message while the page is open), hostile_subject,
// plain_subject.
const net = require('net');
const { run } = require('./lib');

// Deliver one message over SMTP (port 25 of the test's maild), as a
// client would: the page must show it without a reload.
function smtpSend(port, to, subject) {
    return new Promise((resolve, reject) => {
        const lines = ['EHLO browser.test', 'MAIL FROM:<live@example.org>',
            'RCPT TO:<' + to + '>', 'DATA',
            'From: Live Sender <live@example.org>\r\nTo: ' + to +
            '\r\nSubject: ' + subject + '\r\n\r\nArrived live.\r\n.',
            'QUIT'];
        const s = net.connect(port, '127.0.0.1');
        let buf = '';
        const timer = setTimeout(() => { s.destroy(); reject(
            new Error('SMTP timed out')); }, 10000);
        s.on('data', (d) => {
            buf += d.toString();
            // one command per complete reply (the last line has "NNN ")
            while (/^\d{3} .*\r\n/m.test(buf)) {
                const m = buf.match(/^(\d{3}) .*\r\n/m);
                buf = buf.slice(buf.indexOf(m[0]) + m[0].length);
                if (m[1][0] !== '2' && m[1][0] !== '3') {
                    clearTimeout(timer);
                    s.destroy();
                    return reject(new Error('SMTP said ' + m[0]));
                }
                const next = lines.shift();
                if (next === undefined) {
                    clearTimeout(timer);
                    s.end();
                    return resolve();
                }
                s.write(next + '\r\n');
            }
        });
        s.on('error', (e) => { clearTimeout(timer); reject(e); });
    });
}

// Drag one element onto another.  Headless Firefox driven over WebDriver
// BiDi starts a drag (dragstart fires) but never delivers dragover and
// drop, whatever the pointer does; there the page's own handlers get the
// events as the browser would send them, with one DataTransfer.
async function drag(b, page, from, to) {
    if (b.kind !== 'firefox')
        return page.dragAndDrop(from, to);
    const target = await page.locator(to).elementHandle();
    await page.locator(from).evaluate((src, dst) => {
        const dt = new DataTransfer();
        const fire = (el, type) => el.dispatchEvent(new DragEvent(type,
            { bubbles: true, cancelable: true, dataTransfer: dt }));
        fire(src, 'dragstart');
        fire(dst, 'dragenter');
        if (!fire(dst, 'dragover'))     // cancelled: the target accepts
            fire(dst, 'drop');
        fire(src, 'dragend');
    }, target);
}

run(async (b, t, params) => {
    const page = await b.page();
    await page.goto(params.url + '/login');
    t.eq(await page.title(), 'Log in · maild', 'the login page shows');
    await b.shot(page, '01-login');

    // Log in: the click to the first rows is what a user waits for.
    await page.fill('#user', params.user);
    await page.fill('#password', 'wrong password');
    await page.click('button[type=submit]');
    await page.waitForSelector('p.error');
    t.like(await page.textContent('p.error'), /Login failed/,
        'a wrong password: "Login failed."');
    await page.fill('#user', params.user);
    await page.fill('#password', params.password);
    const t0 = Date.now();
    await page.click('button[type=submit]');
    await page.waitForSelector('ul.messages li[data-uid]');
    t.data({ login_to_rows_ms: Date.now() - t0 });
    t.like(await page.title(), /Inbox · maild$/, 'logged in: the inbox');
    const rows = await page.$$eval('ul.messages li[data-uid]',
        (els) => els.map((e) => ({ text: e.textContent,
            unread: e.classList.contains('unread') })));
    t.ok(rows.some((r) => r.text.includes(params.plain_subject) &&
        r.unread), 'the plain message is listed, unread (bold)', rows);
    await b.shot(page, '02-inbox');

    // The hostile HTML mail: opened, no script of it runs, nothing
    // remote is fetched.
    await page.click('text=' + params.hostile_subject);
    const frameEl = await page.waitForSelector('article.reader iframe');
    const frame = await frameEl.contentFrame();
    if (frame) {
        await frame.waitForURL(/\/msg\/body/);
        await frame.waitForLoadState('load');
    }
    t.ok(frame && frame.url().includes('/msg/body'),
        'the message text is in its own frame', frame && frame.url());
    if (frame) {
        t.like(await frame.textContent('body'), /Dear customer/,
            'the hostile mail\'s text is shown');
        let frameRan;
        try {
            frameRan = await frame.evaluate(() => window.__pwned);
        } catch (e) {
            frameRan = 'sandboxed: ' + e.message.split('\n')[0];
        }
        t.ok(frameRan === undefined || String(frameRan).startsWith(
            'sandboxed'), 'in the frame, window.__pwned stays unset',
        frameRan);
        t.eq(await frame.$$eval('script, iframe, form, svg, [onerror], ' +
            '[onclick], [onload]', (els) => els.length), 0,
        'no script, frame, form, svg or event handler reached the page');
        const hrefs = await frame.$$eval('a', (els) =>
            els.map((a) => a.getAttribute('href')));
        t.ok(hrefs.every((h) => h === null || /^(https?:|mailto:)/.test(h)),
            'every link left is http(s) or mailto', hrefs);
    }
    t.eq(await page.evaluate(() => window.__pwned), undefined,
        'in the page, window.__pwned stays unset');
    t.eq(b.takeRemote().map((r) => r.url), [],
        'no request left for a remote host (the remote image was dropped)');
    await b.shot(page, '03-hostile-message');

    // Opened: the page marked it read (a POST with the CSRF token).
    await page.waitForFunction((subj) => {
        const li = [...document.querySelectorAll('ul.messages li')]
            .find((l) => l.textContent.includes(subj));
        return li && !li.classList.contains('unread');
    }, params.hostile_subject);
    t.ok(true, 'the opened message is no longer bold');

    // Keyboard: Delete moves it to the Trash.
    await page.keyboard.press('Delete');
    await page.waitForSelector('article.reader p.nothing, ' +
        'article.reader[data-uid]');
    const inbox = await page.$$eval('ul.messages li[data-uid]',
        (els) => els.map((e) => e.textContent));
    t.ok(!inbox.some((r) => r.includes(params.hostile_subject)),
        'Delete: the message left the inbox', inbox);

    // Live: a message delivered by SMTP appears without a reload.
    await page.click('text=Inbox');
    await page.waitForSelector('ul.messages li[data-uid]');
    const marker = await page.evaluate(() => { window.__same = 1; return 1; });
    await smtpSend(params.smtp_port, params.user, 'Arrived while you looked');
    await page.waitForSelector('text=Arrived while you looked',
        { timeout: 10000 });
    t.eq(await page.evaluate(() => window.__same), marker,
        'a message delivered by SMTP appears live (same page, no reload)');
    t.like(await page.title(), /^\(\d+\) Inbox/,
        'the unread count shows in the title');
    await b.shot(page, '04-live');

    // Trash holds the deleted one; move it back by dragging.
    await page.click('nav.folders >> text=Trash');
    await page.waitForSelector('text=' + params.hostile_subject);
    await drag(b, page, 'ul.messages li[data-uid] >> nth=0',
        'nav.folders li[data-folder="INBOX"]');
    await page.waitForFunction((subj) => ![...document.querySelectorAll(
        'ul.messages li')].some((l) => l.textContent.includes(subj)),
    params.hostile_subject);
    t.ok(true, 'dragged onto Inbox: it left the Trash');

    // Write a message to ourselves: it goes through the queue and
    // comes back into the list by itself.
    await page.click('nav.folders >> text=Inbox');
    await page.click('a.write');
    await page.waitForSelector('#c-to');
    await page.fill('#c-to', params.user);
    await page.fill('#c-subject', 'Written in the browser');
    await page.fill('#c-body', 'Typed in ' + b.kind + '.');
    // The rich-text editor: the text moves into it; one word made bold.
    await page.click('button.rich-toggle');
    await page.waitForSelector('.editor:not([hidden])');
    t.like(await page.textContent('.editor'),
        new RegExp('Typed in ' + b.kind + '\\.'),
        'rich text: the text moves into the editor');
    // (Typing into an element with spelling checked makes Chromium fetch
    // a dictionary from Google: not the webmail's doing, and no request
    // may leave.  The test turns it off for the editor.)
    await page.$eval('.editor', (e) => { e.spellcheck = false; });
    await page.click('.editor');
    await page.keyboard.press('End');
    await page.keyboard.type(' Bold words');
    for (let i = 0; i < 'Bold words'.length; i++)
        await page.keyboard.press('Shift+ArrowLeft');
    await page.click('.editor-bar button[data-cmd=bold]');
    t.like(await page.innerHTML('.editor'), /<b>Bold words<\/b>/,
        'rich text: Bold makes the selection bold');
    await b.shot(page, '06-compose');
    await page.click('button[value=send]');
    await page.waitForSelector('p.flash');
    t.like(await page.textContent('p.flash'), /Message sent/,
        'send: "Message sent."');
    const subj = 'ul.messages a:text-is("Written in the browser")';
    await page.waitForSelector(subj, { timeout: 15000 });
    t.ok(true, 'the message sent arrives in the inbox (through the queue)');

    // Reply to it, then forward it.
    await page.click(subj);
    await page.waitForSelector('a.reply');
    await page.click('a.reply');
    await page.waitForSelector('#c-body');
    t.eq(await page.inputValue('#c-subject'), 'Re: Written in the browser',
        'reply: "Re:" and the subject');
    t.like(await page.inputValue('#c-body'),
        new RegExp('^> Typed in ' + b.kind + '\\.', 'm'),
        'reply: the text quoted');
    t.like(await page.inputValue('#c-to'), params.user,
        'reply: to the sender');
    await page.click('button[value=send]');
    await page.waitForSelector(
        'ul.messages a:text-is("Re: Written in the browser")',
        { timeout: 15000 });
    t.ok(true, 'the reply arrives');
    await page.click(subj);
    await page.waitForSelector('a.forward');
    await page.click('a.forward');
    await page.waitForSelector('#c-body');
    t.eq(await page.inputValue('#c-subject'), 'Fwd: Written in the browser',
        'forward: "Fwd:" and the subject');
    t.like(await page.inputValue('#c-body'), /Forwarded message/,
        'forward: the message inline');
    await page.fill('#c-to', params.user);
    await page.click('button[value=send]');
    await page.waitForSelector(
        'ul.messages a:text-is("Fwd: Written in the browser")',
        { timeout: 15000 });
    t.ok(true, 'the forward arrives');

    // Search: words of the text, any case.
    await page.fill('input[type=search]',
        'typed in ' + b.kind.toUpperCase());
    await page.press('input[type=search]', 'Enter');
    await page.waitForSelector('ul.messages');
    const hits = await page.$$eval('ul.messages .subject a',
        (els) => els.map((e) => e.textContent));
    t.ok(hits.includes('Written in the browser') &&
        hits.includes('Re: Written in the browser') &&
        !hits.includes(params.plain_subject),
    'search finds the three with those words and not the others', hits);
    await b.shot(page, '07-search');

    // A phone: one column.
    const phone = await b.page(await b.newContext({
        viewport: { width: 390, height: 844 }, isMobile: true,
        storageState: await b.context.storageState() }));
    await phone.goto(params.url + '/mail');
    await phone.waitForSelector('ul.messages li[data-uid]');
    const cols = await phone.evaluate(() => getComputedStyle(document.body)
        .gridTemplateColumns.split(' ').length);
    t.eq(cols, 1, 'on a phone the page is one column');
    await b.shot(phone, '05-phone');

    // Log out: the cookie no longer opens the mailbox.
    await page.click('form.logout button');
    await page.waitForSelector('#user');
    await page.goto(params.url + '/mail');
    t.ok(page.url().endsWith('/login'), 'after logout /mail is the login ' +
        'page again', page.url());
});
