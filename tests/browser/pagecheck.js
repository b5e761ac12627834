// The page checks of tests/browser/pagecheck.py, run in the page: `(options) => findings`.
// Each finding is {check, text, where}: what is wrong, the offending text, and a short path to the element.
(options) => {
  const findings = [];
  const add = (check, text, el) => findings.push({check, text: String(text).slice(0, 160), where: describe(el)});
  const viewport = document.documentElement.clientWidth;
  const lang = options.lang;

  function describe(el) {
    if (!el || el.nodeType !== 1) return "";
    const parts = [];
    for (let node = el; node && node.nodeType === 1 && parts.length < 3; node = node.parentElement) {
      let part = node.tagName.toLowerCase();
      if (node.id) { part += "#" + node.id; parts.unshift(part); break; }
      const cls = [...node.classList].slice(0, 2).join(".");
      if (cls) part += "." + cls;
      parts.unshift(part);
    }
    return parts.join(" > ");
  }
  function visible(el) {
    return el && el.checkVisibility ? el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}) : true;
  }
  function ownText(el) { return (el.innerText || el.textContent || "").replace(/\s+/g, " ").trim(); }

  // ---- 1. no horizontal overflow ---------------------------------------------------------------------
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth > viewport + 1) {
    // The outermost elements that stick out on the right, to say what to fix.
    const wide = [];
    for (const el of document.body.querySelectorAll("*")) {
      if (!visible(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right > viewport + 1 && !(el.parentElement && wide.includes(el.parentElement))) {
        const parentRect = el.parentElement.getBoundingClientRect();
        if (parentRect.right <= viewport + 1 || el.parentElement === document.body) wide.push(el);
      }
      if (wide.length >= 3) break;
    }
    const what = wide.map(el => `${describe(el)} (${Math.round(el.getBoundingClientRect().right)}px) "${ownText(el).slice(0, 40)}"`);
    add("overflow", `page is ${scrollWidth}px wide in a ${viewport}px viewport: ${what.join("; ") || "?"}`, wide[0]);
  }

  // ---- 2. no label, button, link or header cell that wraps inside a word ----------------------------
  const segmenter = new Intl.Segmenter(lang === "zh" ? "zh" : "en", {granularity: "word"});
  const CJK = /[\u3400-\u9fff]/;
  const range = document.createRange();
  function lineOf(rect, lines) {
    for (let i = 0; i < lines.length; i++) if (Math.abs(lines[i] - rect.top) < rect.height / 2) return i;
    lines.push(rect.top);
    return lines.length - 1;
  }
  function wrapBreaks(textNode) {
    // Where the text node's lines begin (character offsets), measured one character at a time.
    const text = textNode.data;
    const lines = [];
    const starts = [];
    let previous = -1;
    for (let i = 0; i < text.length; i++) {
      if (/\s/.test(text[i])) continue;
      range.setStart(textNode, i); range.setEnd(textNode, i + 1);
      const rect = range.getClientRects()[0];
      if (!rect || rect.width === 0) continue;
      const line = lineOf(rect, lines);
      if (previous !== -1 && line !== previous) starts.push(i);
      previous = line;
    }
    return starts;
  }
  const WRAP_TARGETS = "label, button, a, th, summary, legend, [role=button], nav li, .badge, .grade, mark, dt, time";
  const seen = new Set();
  for (const el of document.querySelectorAll(WRAP_TARGETS)) {
    if (!visible(el)) continue;
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (seen.has(node) || !node.data.trim() || !visible(node.parentElement)) continue;
      seen.add(node);
      range.selectNodeContents(node);
      const rects = [...range.getClientRects()].filter(r => r.width > 0);
      if (rects.length < 2) continue;
      const lines = [];
      rects.forEach(r => lineOf(r, lines));
      if (lines.length < 2) continue;
      const text = node.data;
      const trimmed = text.trim();
      const segments = [...segmenter.segment(text)].filter(s => s.isWordLike);
      // Chinese breaks between any two characters, so a long Chinese sentence may wrap anywhere; a short text
      // (a label, a button, a header: a few words) must not break inside a word nor between two characters.
      const cjk = CJK.test(trimmed);
      if (cjk && trimmed.length > 12) continue;
      for (const b of wrapBreaks(node)) {
        const inWord = segments.some(s => s.index < b && b < s.index + s.segment.length);
        const betweenCjk = cjk && CJK.test(text[b]) && CJK.test(text.slice(0, b).trimEnd().slice(-1));
        if (inWord || betweenCjk) {
          add("wrap", `"${text.slice(0, b).trim()}/${text.slice(b).trim()}" wraps inside a word`, el);
          break;
        }
      }
    }
  }

  // ---- 3. the navigation fits ----------------------------------------------------------------------
  const header = document.querySelector("body > header");
  if (header) {
    // Rows of the bar: the distinct tops of what it shows (the name, the links, the menu button).
    const shown = [...header.querySelectorAll("nav > *, nav > ul > li")].filter(el => visible(el) && el.getBoundingClientRect().height > 0);
    const rows = [];  // [top, bottom] of each row; an element whose middle falls in a row is in it
    shown.forEach(el => {
      const r = el.getBoundingClientRect();
      const middle = (r.top + r.bottom) / 2;
      if (!rows.some(([top, bottom]) => top <= middle && middle <= bottom)) rows.push([r.top, r.bottom]);
    });
    if (rows.length > 1) add("nav", `the navigation takes ${rows.length} rows (one at most): "${ownText(header).slice(0, 100)}"`, header);
    const height = header.getBoundingClientRect().height;
    if (height > options.headerMax) add("nav", `the header is ${Math.round(height)}px tall (at most ${options.headerMax}px)`, header);
    const r = header.getBoundingClientRect();
    if (r.right > viewport + 1) add("nav", `the header is wider than the viewport (${Math.round(r.right)}px)`, header);
  }

  // ---- 4. visible text: codes in Chinese pages, punctuation in English pages, dates ------------------
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {
    acceptNode(node) {
      const parent = node.parentElement;
      if (!parent || !node.data.trim()) return NodeFilter.FILTER_REJECT;
      if (parent.closest("script, style, noscript, template, [translate=no], [data-pagecheck-ignore]")) return NodeFilter.FILTER_REJECT;
      return visible(parent) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_REJECT;
    }});
  for (let node = walker.nextNode(); node; node = walker.nextNode()) texts.push([node.data.replace(/\s+/g, " ").trim(), node.parentElement]);
  // Generated content: "Sent to base：" from td[data-label]::before is text a person reads.
  for (const el of document.querySelectorAll("[data-label]")) {
    if (!visible(el)) continue;
    for (const pseudo of ["::before", "::after"]) {
      const content = getComputedStyle(el, pseudo).content;
      if (content && content !== "none" && content !== "normal") texts.push([el.getAttribute("data-label") + content.replace(/^.*"(.*)"$/, "$1"), el]);
    }
  }
  const codes = new Set(options.codes);
  const allowed = new RegExp(options.allow, "i");
  for (const [text, el] of texts) {
    const inEnglish = el.closest("[lang]") && !el.closest("[lang]").getAttribute("lang").startsWith("zh");
    // A part written in Chinese whatever the page's language (the printed slip the person takes home) says so
    // with lang="zh-CN", and is checked by the Chinese rules.
    const inChinese = el.closest("[lang]") && el.closest("[lang]").getAttribute("lang").startsWith("zh");
    if (lang === "zh" && !inEnglish) {
      const cleaned = text.replace(/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, " ").replace(new RegExp(options.allow, "gi"), " ");
      const snake = cleaned.match(/[A-Za-z0-9]*[a-z]+_[a-z0-9_]+/);
      if (snake) add("code", `"${snake[0]}" in "${text}"`, el);
      else {
        for (const word of cleaned.match(/(?<![A-Za-z0-9_.\/-])[a-z][a-z-]+(?![A-Za-z0-9_])/g) || []) {
          if (codes.has(word) && !allowed.test(word)) { add("code", `"${word}" in "${text}"`, el); break; }
        }
      }
    }
    if (lang === "en" && !inChinese) {
      // Next to a Latin letter (Chinese names in English pages keep their own punctuation: "烹饪培训班（60天）").
      const punct = text.match(/[A-Za-z)][：，；。（）]|[：，；（）][A-Za-z(]/);
      if (punct) add("punctuation", `Chinese punctuation "${punct[0]}" in "${text}"`, el);
    }
    for (const [name, pattern] of (inChinese ? options.datesZh || options.dates : options.dates)) {
      const found = text.match(new RegExp(pattern));
      if (found) add("date", `${name}: "${found[0]}" in "${text}"`, el);
    }
  }
  return findings;
}
