// maild webmail: conveniences on top of pages that work without it.
// No inline script anywhere (the Content-Security-Policy forbids it).
"use strict";
(function () {
	const csrf = document.querySelector('meta[name="csrf"]');
	const token = csrf ? csrf.content : "";
	const folder = document.body.dataset.folder || "";

	function post(fields) {
		const body = new URLSearchParams();
		body.append("csrf", token);
		for (const [k, v] of fields)
			body.append(k, v);
		return fetch("/act", { method: "POST", body: body,
		    credentials: "same-origin", redirect: "manual" });
	}

	// A message open and unread: mark it read (a GET never changes
	// anything, so the page asks for it).
	const reader = document.querySelector("article.reader[data-uid]");
	if (reader && reader.dataset.unread === "1") {
		post([["op", "read"], ["f", folder], ["uid", reader.dataset.uid],
		    ["js", "1"]]).then(function () {
			const row = document.querySelector(
			    '.messages li[data-uid="' + reader.dataset.uid + '"]');
			if (row)
				row.classList.remove("unread");
			const count = document.querySelector(
			    "nav.folders li.current .count");
			if (count) {
				const n = parseInt(count.textContent, 10) - 1;
				count.textContent = n > 0 ? String(n) : "";
				document.title = document.title.replace(/^\(\d+\) /,
				    n > 0 ? "(" + n + ") " : "");
			}
		});
	}

	// A click on a row opens the message (the subject is the link);
	// drag a message onto a folder to move it there.  Bound again when
	// a live update redraws the list.
	function bind() {
		for (const row of document.querySelectorAll(".messages li[data-href]")) {
			row.addEventListener("click", function (e) {
				if (e.target.closest("input, a, label"))
					return;
				location.href = row.dataset.href;
			});
			row.draggable = true;
			row.addEventListener("dragstart", function (e) {
				e.dataTransfer.setData("text/x-maild-uid", row.dataset.uid);
				e.dataTransfer.effectAllowed = "move";
			});
		}
		for (const li of document.querySelectorAll("nav.folders li[data-folder]")) {
			li.addEventListener("dragover", function (e) {
				if (e.dataTransfer.types.includes("text/x-maild-uid")) {
					e.preventDefault();
					li.classList.add("drop");
				}
			});
			li.addEventListener("dragleave", function () {
				li.classList.remove("drop");
			});
			li.addEventListener("drop", function (e) {
				e.preventDefault();
				li.classList.remove("drop");
				const uid = e.dataTransfer.getData("text/x-maild-uid");
				if (!uid)
					return;
				post([["op", "move"], ["f", folder], ["uid", uid],
				    ["to", li.dataset.folder], ["js", "1"]]).then(function () {
					location.reload();
				});
			});
		}
	}
	bind();
	document.addEventListener("maild:list", bind);

	const all = document.querySelector("input.select-all");
	if (all)
		all.addEventListener("change", function () {
			for (const box of document.querySelectorAll(
			    '.messages input[name="uid"]'))
				box.checked = all.checked;
		});

	// Live: new mail and changes made elsewhere (IMAP clients, other
	// pages) redraw the folders and the list, not the message open.
	let pending = null;
	function refresh() {
		pending = null;
		fetch(location.href, { credentials: "same-origin" })
		    .then(function (r) { return r.ok ? r.text() : null; })
		    .then(function (html) {
			if (!html)
				return;
			const doc = new DOMParser().parseFromString(html,
			    "text/html");
			for (const sel of ["nav.folders ul", "ul.messages",
			    ".pager"]) {
				const now = document.querySelector(sel);
				const next = doc.querySelector(sel);
				if (now && next)
					now.replaceWith(document.importNode(next,
					    true));
			}
			document.title = doc.title;
			document.dispatchEvent(new Event("maild:list"));
		});
	}
	if (window.EventSource && folder) {
		const es = new EventSource("/events?f=" +
		    encodeURIComponent(folder));
		es.addEventListener("mailbox", function () {
			if (pending === null)
				pending = setTimeout(refresh, 200);
		});
	}

	// Writing: a small rich-text editor of our own (bold, italic, a
	// list, links).  What it makes is sent as "html" beside the text,
	// and the server passes it through its HTML sanitizer.
	const form = document.querySelector("form.compose-form");
	if (form) {
		const bar = form.querySelector(".editor-bar");
		const ed = form.querySelector(".editor");
		const ta = form.querySelector("#c-body");
		const html = form.querySelector('input[name="html"]');
		const toggle = form.querySelector(".rich-toggle");
		let rich = false;
		toggle.hidden = false;
		toggle.addEventListener("click", function () {
			rich = !rich;
			if (rich) {
				ed.textContent = "";
				for (const line of ta.value.split("\n")) {
					const div = document.createElement("div");
					if (line)
						div.textContent = line;
					else
						div.appendChild(document.createElement("br"));
					ed.appendChild(div);
				}
			} else
				ta.value = ed.innerText;
			ed.hidden = bar.hidden = !rich;
			ta.hidden = rich;
			toggle.textContent = rich ? "Plain text" : "Rich text";
			(rich ? ed : ta).focus();
		});
		for (const b of bar.querySelectorAll("button[data-cmd]"))
			b.addEventListener("click", function () {
				let arg = null;
				if (b.dataset.cmd === "createLink") {
					arg = window.prompt("Link to (https://...)");
					if (!arg || !/^(https?:|mailto:)/i.test(arg))
						return;
				}
				ed.focus();
				document.execCommand(b.dataset.cmd, false, arg);
			});
		form.addEventListener("submit", function () {
			if (rich) {
				html.value = ed.innerHTML;
				ta.value = ed.innerText;
			} else
				html.value = "";
		});
	}

	// Keyboard: j/k next and previous, Delete or # to delete, u unread,
	// s flag, r reply, a reply to all, f forward, c write, / search,
	// Escape back to the list.
	function go(sel) {
		const a = document.querySelector(sel);
		if (a)
			location.href = a.getAttribute("href");
	}
	document.addEventListener("keydown", function (e) {
		if (e.ctrlKey || e.metaKey || e.altKey ||
		    e.target.closest("input, textarea, select"))
			return;
		const act = function (op) {
			const b = document.querySelector(
			    '.reader button[value="' + op + '"]');
			if (b)
				b.click();
		};
		switch (e.key) {
		case "j": go("a.next-msg"); break;
		case "k": go("a.prev-msg"); break;
		case "Delete": case "#": act("delete"); break;
		case "u": act("unread"); break;
		case "r": go("a.reply"); break;
		case "a": go("a.reply-all"); break;
		case "f": go("a.forward"); break;
		case "c": go("a.write"); break;
		case "s": act("flag"); break;
		case "Escape": go("a.close-msg"); break;
		case "/": {
			const q = document.querySelector('input[type="search"]');
			if (q) {
				e.preventDefault();
				q.focus();
			}
			break;
		}
		default: return;
		}
	});
})();
