/*
 * board.js - the board's reading of a page the machine could not count (#/board-read/ID):
 * the scanned page beside the form's rows, a choice per row entered from the paper,
 * keyboard first (1/2/3 a level, 0 no box marked, X two or more, arrows to move, Enter to
 * save). It says "scan this sheet again" first when a rescan is likely to help. Each
 * member sees only their own entry; the head deciding a disagreement sees the rows that
 * differ. Uses app.js's helpers (h, api, show, toast, setKeys, state, stopTotals); loaded
 * before it.
 */
'use strict';

const BOARD_TEXT = {
  vi: {
    title: 'Ban đọc phiếu',
    link: 'Ban đọc phiếu trên giấy',
    read_label: 'Tính theo Ban đọc phiếu',
    rescan_title: 'Quét lại tờ này',
    rescan_text: (b, p) => `Máy không đọc được trang này, nhưng quét lại thường được. Lấy tờ phiếu (đợt ${b}, tờ ${p}), vuốt phẳng, đặt thẳng và quét lại. Nếu lần quét mới được đếm, chọn «Không tính» cho trang này (tờ quét trùng).`,
    rescan_failed: 'Đã quét lại mà không được — Ban đọc phiếu',
    machine_words: 'Máy ghi',
    intro: 'Đọc tờ phiếu giấy và chọn cho từng dòng. Bạn không thấy phần người khác đã nhập; hai người nhập giống nhau thì phiếu được tính.',
    form: 'Mẫu phiếu',
    choose_form: '— chọn mẫu phiếu của tờ giấy —',
    blank: 'Không đánh dấu',
    overvote: 'Đánh dấu từ hai ô',
    t_no: 'STT', t_name: 'Họ và tên', t_choice: 'Lựa chọn trên giấy',
    save: 'Ghi kết quả đọc',
    note: 'Ghi chú (không bắt buộc)',
    keys: 'Phím: 1, 2, 3 chọn mức; 0 không đánh dấu; X từ hai ô; ↑ ↓ chuyển dòng; Enter ghi; Esc về hàng chờ.',
    missing: (n) => `Còn ${n} dòng chưa chọn.`,
    mine: 'Bạn đã đọc trang này. Lưu lại sẽ hoàn tác phần đã nhập rồi ghi phần mới (khi chưa có người thứ hai đọc).',
    waiting_second: 'Đang chờ một thành viên khác đọc độc lập.',
    head_now: 'Hai lần đọc khác nhau. Trưởng ban đọc tờ giấy và quyết định; các dòng khác nhau được tô màu.',
    waiting_head: 'Hai lần đọc khác nhau: chờ một Trưởng ban chưa đọc trang này.',
    resolved: 'Trang này đã được tính theo Ban đọc phiếu.',
    resolved_other: 'Trang này đã được quyết định.',
    not_yours: 'Bạn không thể đọc trang này lúc này.',
    not_page: 'Ban chỉ đọc cả một trang phiếu.',
    saved_second: 'Đã ghi. Cần một thành viên khác đọc.',
    saved_head: 'Hai lần đọc khác nhau: Trưởng ban sẽ quyết định.',
    saved_done: 'Đã ghi: phiếu được tính theo Ban đọc.',
    no_image: 'Không có ảnh (tệp không đọc được): đọc trực tiếp trên tờ giấy.',
    back: 'Về hàng chờ',
  },
  en: {
    title: "The board reads the ballot",
    link: 'The board reads the paper',
    read_label: "Counted by the board's reading",
    rescan_title: 'Scan this sheet again',
    rescan_text: (b, p) => `The machine could not read this page, but a rescan usually works. Take the paper (batch ${b}, sheet ${p}), flatten it, feed it straight and scan it again. If the new scan is counted, decide "do not count" for this page (scanned twice).`,
    rescan_failed: 'Scanned again without success — the board reads it',
    machine_words: 'The machine says',
    intro: "Read the paper ballot and choose for every row. You do not see anyone else's entry; two equal entries count the ballot.",
    form: 'Ballot form',
    choose_form: '— choose the form of the paper —',
    blank: 'No box marked',
    overvote: 'Two or more marked',
    t_no: 'No.', t_name: 'Full name', t_choice: 'Choice on the paper',
    save: 'Save the reading',
    note: 'Note (optional)',
    keys: 'Keys: 1, 2, 3 a level; 0 no box marked; X two or more; ↑ ↓ move; Enter saves; Esc back to the queue.',
    missing: (n) => `${n} row(s) still to choose.`,
    mine: 'You read this page. Saving again takes your entry back and records the new one (while nobody else has read it).',
    waiting_second: 'Waiting for another member to read it independently.',
    head_now: 'The two readings differ. The head reads the paper and decides; the rows that differ are highlighted.',
    waiting_head: 'The two readings differ: waiting for a head who has not read this page.',
    resolved: "This page is counted by the board's reading.",
    resolved_other: 'This page has been decided.',
    not_yours: 'You cannot read this page now.',
    not_page: 'The board reads whole pages only.',
    saved_second: 'Saved. Another member must read it too.',
    saved_head: 'The readings differ: the head will decide.',
    saved_done: "Saved: the ballot counts by the board's reading.",
    no_image: 'No image (the file could not be read): read the paper itself.',
    back: 'Back to the queue',
  },
};

function bt(key, ...args) {
  const v = BOARD_TEXT[state.lang][key];
  return typeof v === 'function' ? v(...args) : v;
}

/* Whether the review screen offers the board's reading for this exception: a whole page
 * the machine did not count (app.js shows the link). */
function boardReadable(ex) {
  return ex.row === 0 && (ex.page_status === 'rejected' || ex.page_status === 'blank' || !ex.has_image);
}

function boardReadLink(ex) {
  if (!boardReadable(ex)) return null;
  return h('p', {}, h('a', { href: '#/board-read/' + ex.id, id: 'board-read-link', class: 'button-link' },
    h('kbd', {}, 'B'), ' ', bt('link')));
}

async function renderBoardRead(id) {
  stopTotals();
  setKeys(null);
  const br = await api('/api/exception/' + encodeURIComponent(id) + '/board-read');
  const view = { form: br.form, rows: [], current: 0, rescanShown: br.rescan && br.may_read && (br.state === 'open' || br.state === 'second') && !br.mine };
  const formOf = (fid) => br.forms.find((f) => f.id === fid) || null;
  if (br.mine) { view.form = br.mine.form; view.rows = br.mine.rows.slice(); }

  const pageView = br.has_image
    ? h('div', { class: 'page-view' }, h('div', { class: 'page-wrap' }, h('img', { src: '/img/' + br.sheet + '/page.png', alt: bt('title'), id: 'page-image' })))
    : h('div', { class: 'page-view card' }, h('p', { class: 'error' }, bt('no_image')));
  const panel = h('div', { class: 'card', id: 'board-panel' });

  function stateBanner() {
    if (br.by_board) return h('p', { class: 'banner ok', id: 'board-state' }, bt('resolved'));
    if (br.state === 'resolved') return h('p', { class: 'banner ok', id: 'board-state' }, bt('resolved_other'));
    if (br.state === 'head') return h('p', { class: 'banner warn', id: 'board-state' }, br.readings ? bt('head_now') : bt('waiting_head'));
    if (br.mine) return h('p', { class: 'banner wait', id: 'board-state' }, bt('mine') + ' ' + bt('waiting_second'));
    return null;
  }

  function missing() {
    const f = formOf(view.form);
    if (!f) return -1;
    let n = 0;
    for (let i = 0; i < f.rows.length; i++) if (!view.rows[i]) n += 1;
    return n;
  }

  function keyOf(f, value) {
    if (value === 'blank') return '0';
    if (value === 'overvote') return 'X';
    const i = f.choices.findIndex((c) => c.key === value);
    return i >= 0 ? String(i + 1) : '';
  }

  function labelOf(f, value) {
    if (value === 'blank') return bt('blank');
    if (value === 'overvote') return bt('overvote');
    const c = f.choices.find((x) => x.key === value);
    return c ? choiceLabel(c.key, c.label) : (value || '');
  }

  function render() {
    const parts = [h('h1', { id: 'board-title' }, bt('title'), ' — ', reasonTitle(br.reason, br.text))];
    if (br.text) parts.push(h('p', { class: 'muted small', id: 'machine-text' }, bt('machine_words') + ': ' + br.text));
    if (!br.page) { parts.push(h('p', { class: 'error' }, bt('not_page'))); finish(parts); return; }
    if (view.rescanShown) {
      /* First: scanning again is the better way when it is likely to work. */
      parts.push(h('div', { class: 'banner warn', id: 'rescan' },
        h('h2', {}, bt('rescan_title')),
        h('p', {}, bt('rescan_text', br.batch, br.position)),
        h('button', { type: 'button', id: 'rescan-failed', onclick: () => { view.rescanShown = false; render(); } },
          h('kbd', {}, 'Enter'), ' ', bt('rescan_failed'))));
      finish(parts);
      return;
    }
    const banner = stateBanner();
    if (banner) parts.push(banner);
    if (!br.may_read) { parts.push(h('p', { class: 'muted', id: 'not-yours' }, bt('not_yours'))); finish(parts); return; }
    if (!br.readings) parts.push(h('p', { class: 'muted' }, bt('intro')));
    if (br.forms.length > 1 || !view.form) {
      const sel = h('select', { id: 'board-form' }, h('option', { value: '' }, bt('choose_form')),
        br.forms.map((f) => h('option', { value: f.id, selected: f.id === view.form }, f.id + ' — ' + f.title)));
      sel.addEventListener('change', () => { view.form = sel.value || null; view.rows = []; view.current = 0; render(); });
      parts.push(h('label', { for: 'board-form', class: 'muted' }, bt('form')), sel);
    }
    const f = formOf(view.form);
    if (f) {
      const differs = (i) => br.readings && br.readings.some((r) => r.form !== br.readings[0].form || r.rows[i] !== br.readings[0].rows[i]);
      const head = [h('th', {}, bt('t_no')), h('th', {}, bt('t_name')), h('th', {}, bt('t_choice'))];
      if (br.readings) for (const r of br.readings) head.push(h('th', {}, r.user));
      const body = f.rows.map((row, i) => {
        const buttons = f.choices.map((c, k) => ({ value: c.key, key: String(k + 1), label: choiceLabel(c.key, c.label) }))
          .concat([{ value: 'blank', key: '0', label: bt('blank') }, { value: 'overvote', key: 'X', label: bt('overvote') }])
          .map((b) => h('button', {
            type: 'button',
            class: 'secondary' + (view.rows[i] === b.value ? ' chosen' : ''),
            'data-value': b.value,
            onclick: () => { choose(i, b.value); },
          }, h('kbd', {}, b.key), b.label));
        const cells = [h('td', {}, String(row.row)), h('td', {}, row.name, row.post ? h('div', { class: 'muted small' }, row.post) : null),
          h('td', { class: 'board-choices' }, buttons)];
        if (br.readings) for (const r of br.readings) cells.push(h('td', {}, r.form === f.id ? labelOf(f, r.rows[i]) : r.form));
        return h('tr', {
          class: (i === view.current ? 'current' : '') + (differs(i) ? ' differ' : ''),
          'data-row': String(i + 1),
          'data-value': view.rows[i] || '',
        }, cells);
      });
      parts.push(h('table', { class: 'readings board-rows', id: 'board-rows' }, h('thead', {}, h('tr', {}, head)), h('tbody', {}, body)));
      const left = missing();
      parts.push(h('p', { class: left ? 'muted' : 'ok', id: 'board-missing' }, left ? bt('missing', left) : '✓'));
      const note = h('textarea', { id: 'board-note', maxlength: 399 });
      note.value = view.note || '';
      note.addEventListener('input', () => { view.note = note.value; });
      parts.push(h('label', { for: 'board-note', class: 'muted' }, bt('note')), note);
      parts.push(h('button', { type: 'button', id: 'board-save', disabled: left !== 0, onclick: save }, h('kbd', {}, 'Enter'), ' ', bt('save')));
      parts.push(h('p', { class: 'muted keys' }, bt('keys')));
    }
    finish(parts);
    const cur = document.querySelector('#board-rows tr.current');
    if (cur && cur.scrollIntoView) cur.scrollIntoView({ block: 'nearest' });
  }

  function finish(parts) {
    parts.push(h('div', { class: 'nav-row' }, h('button', { type: 'button', class: 'secondary', id: 'back', onclick: () => { location.hash = '#/queue'; } }, bt('back'))));
    panel.replaceChildren(...parts.filter((p) => p));
  }

  function choose(i, value) {
    const f = formOf(view.form);
    if (!f) return;
    view.rows[i] = value;
    view.current = Math.min(i + 1, f.rows.length - 1);
    render();
  }

  async function save() {
    const f = formOf(view.form);
    if (!f || missing() !== 0 || state.busy) return;
    state.busy = true;
    try {
      /* A member decides a case once: a correction takes the earlier entry back first
       * (refused once a second member has read the page). */
      if (br.mine) await api('/api/exception/' + br.id + '/undo', {});
      const r = await api('/api/exception/' + br.id + '/board-read', { form: f.id, rows: view.rows.slice(0, f.rows.length), note: view.note || '' });
      toast(r.state === 'resolved' ? bt('saved_done') : r.state === 'head' ? bt('saved_head') : bt('saved_second'));
      location.hash = '#/queue';
    } catch (e) {
      toast(e.message);
    } finally {
      state.busy = false;
    }
  }

  show(h('div', { class: 'exception board-read' }, pageView, panel));
  render();
  setKeys((ev) => {
    if (ev.key === 'Escape') { location.hash = '#/queue'; return true; }
    if (view.rescanShown) {
      if (ev.key === 'Enter') { view.rescanShown = false; render(); return true; }
      return false;
    }
    const f = formOf(view.form);
    if (!f || !br.may_read) return false;
    if (ev.key === 'ArrowDown') { view.current = Math.min(view.current + 1, f.rows.length - 1); render(); return true; }
    if (ev.key === 'ArrowUp') { view.current = Math.max(view.current - 1, 0); render(); return true; }
    if (ev.key === 'Enter') { save(); return true; }
    const k = ev.key.toUpperCase();
    if (k === '0') { choose(view.current, 'blank'); return true; }
    if (k === 'X') { choose(view.current, 'overvote'); return true; }
    const n = Number(k);
    if (n >= 1 && n <= f.choices.length) { choose(view.current, f.choices[n - 1].key); return true; }
    return false;
  });
}
