/*
 * app.js - the review screen in the browser: login, the queue, one exception with its
 * decision buttons and shortcuts, the live totals. Vietnamese first, English switch.
 * Talks only to this server's /api/ and /img/; builds every element with textContent
 * (never HTML from data), and sends the CSRF token with every change.
 */
'use strict';

const TEXT = {
  vi: {
    title: 'Duyệt phiếu',
    queue: 'Hàng chờ',
    totals: 'Kết quả',
    logout: 'Đăng xuất',
    other_lang: 'English',
    login_title: 'Đăng nhập để duyệt phiếu',
    login_help: 'Dành cho thành viên Ban kiểm phiếu. Tài khoản do người vận hành tạo.',
    user: 'Tên đăng nhập',
    password: 'Mật khẩu',
    login: 'Đăng nhập',
    role_head: 'Trưởng ban',
    role_supervisor: 'Thành viên Ban kiểm phiếu',
    test_session: 'PHIÊN THỬ — không phải kết quả chính thức',
    c_todo: 'Chờ bạn quyết định',
    c_open: 'Chưa xong',
    c_second: 'Chờ người thứ hai',
    c_head: 'Chờ Trưởng ban',
    c_decided: 'Đã xong',
    filter: 'Lý do:',
    all_reasons: 'Tất cả',
    show_done: 'Hiện cả các trường hợp đã xong',
    start: 'Bắt đầu duyệt',
    col_page: 'Ảnh',
    col_reason: 'Cần xem gì',
    col_form: 'Mẫu phiếu',
    col_paper: 'Tìm tờ giấy',
    col_state: 'Tình trạng',
    paper: (b, p) => `Lô ${b}, tờ thứ ${p}`,
    row_of: (r) => `dòng ${r}`,
    whole_page: 'cả tờ phiếu',
    none_todo: 'Không còn trường hợp nào chờ bạn. Cảm ơn!',
    none: 'Không có trường hợp nào.',
    s_open: 'Chưa ai quyết định',
    s_second: 'Chờ người thứ hai',
    s_head: 'Ý kiến khác nhau — chờ Trưởng ban',
    s_resolved: 'Đã xong',
    s_mine: 'Bạn đã quyết định',
    back: '← Về hàng chờ',
    next: 'Trường hợp tiếp theo →',
    the_person: 'Người được lấy phiếu',
    machine_read: 'Máy đọc được',
    box_scores: 'Máy đo mực trong từng ô',
    score: 'điểm',
    machine_words: 'Chi tiết của máy (tiếng Anh)',
    twin_title: (b, p) => `Tờ đã quét trước đó có vết mực giống hệt: Lô ${b}, tờ thứ ${p}`,
    st_marked: 'có đánh dấu',
    st_marginal: 'mờ, không chắc',
    st_empty: 'để trống',
    decide_row: 'Quyết định của bạn cho dòng này:',
    decide_page: 'Quyết định của bạn cho cả tờ phiếu:',
    invalid_row: 'Không hợp lệ (cho người này)',
    invalid_ballot: 'Cả phiếu không hợp lệ',
    accept: 'Tính phiếu như máy đã đọc',
    discard: 'Không tính (không phải phiếu / tờ quét trùng)',
    count_as_form: (name) => `Tính theo mẫu ${name}`,
    note: 'Ghi chú (không bắt buộc)',
    keys_help: 'Phím tắt: số hoặc chữ trong khung để chọn; Esc để về hàng chờ.',
    two_person: 'Quy tắc hai người: cần hai thành viên quyết định giống nhau, mỗi người không thấy quyết định của người kia. Nếu khác nhau, Trưởng ban quyết định.',
    waiting_second: 'Bạn đã quyết định. Đang chờ một thành viên khác quyết định độc lập.',
    waiting_head: 'Hai thành viên quyết định khác nhau. Trưởng ban sẽ quyết định.',
    head_now: 'Hai thành viên quyết định khác nhau. Quyết định của Trưởng ban là cuối cùng.',
    resolved_as: 'Đã quyết định:',
    decisions: 'Các quyết định',
    saved: 'Đã ghi quyết định.',
    saved_second: 'Đã ghi. Cần thêm một thành viên khác quyết định.',
    saved_head: 'Đã ghi. Hai ý kiến khác nhau — chuyển Trưởng ban.',
    saved_done: 'Đã ghi. Trường hợp này đã xong.',
    not_yours: 'Trường hợp này không chờ bạn quyết định.',
    change_head: 'Trưởng ban có thể thay đổi quyết định bằng một quyết định mới.',
    no_image: 'Không có ảnh: tệp quét không đọc được. Hãy tìm tờ giấy theo vị trí bên dưới.',
    upside_down: 'Tờ phiếu được đưa vào ngược chiều; ảnh đã được xoay lại cho đúng chiều.',
    where_paper: 'Vị trí tờ giấy',
    form: 'Mẫu phiếu',
    unknown_form: 'không xác định',
    reading_all: 'Máy đọc cả tờ',
    totals_title: 'Kết quả kiểm phiếu (cập nhật liên tục)',
    provisional: (n) => `TẠM TÍNH — còn ${n} trường hợp chưa quyết định.`,
    final_ok: 'Mọi trường hợp đã được quyết định.',
    updated: 'Cập nhật lúc',
    ballots: 'Số phiếu đã quét',
    valid_ballots: 'Phiếu hợp lệ',
    invalid_ballots: 'Phiếu không hợp lệ',
    collected_ballots: 'Số phiếu thu vào (Ban đếm)',
    pending_ballots: 'Phiếu chờ quyết định cả tờ',
    base: 'Cơ sở tính tỷ lệ',
    base_est: '(chưa nhập số phiếu thu về — tạm dùng số phiếu đã quét)',
    t_no: 'STT',
    t_name: 'Họ và tên',
    t_post: 'Chức vụ',
    t_valid: 'Hợp lệ',
    t_notvalid: 'Không hợp lệ',
    t_pending: 'Chờ quyết định',
    t_band: 'Ghi chú theo quy định',
    unknown_pages: (n) => `${n} tờ chưa xác định được mẫu phiếu (đang chờ quyết định).`,
    err_network: 'Không kết nối được với máy chủ duyệt phiếu. Kiểm tra lệnh "phieu review" còn chạy.',
    err_login: 'Sai tên hoặc mật khẩu.',
    err_locked: 'Đăng nhập sai quá nhiều lần. Tạm khóa, hãy thử lại sau.',
    err_expired: 'Phiên đăng nhập đã hết hạn. Hãy đăng nhập lại.',
    undo: 'Hoàn tác',
    saved_short: (place) => `Đã ghi: ${place}.`,
    saved_finished: 'Đã xong.',
    with_page: 'Đóng cùng tờ phiếu (tờ đã được để riêng: không tính, hoặc cả phiếu không hợp lệ)',
    undone: 'Đã hoàn tác; hãy quyết định lại.',
    loading: 'Đang tải ảnh… các nút sẽ bấm được khi ảnh đã hiện ra.',
    done_others: (n) => `Bạn đã xem xong; còn ${n} trường hợp chờ người khác.`,
    done_all: 'Mọi trường hợp đã xong.',
    not_again: 'Bạn đã quyết định trường hợp này. Theo quy tắc hai người, một thành viên khác phải quyết định.',
    override_title: 'Trường hợp này đã có quyết định. Thay đổi nó là quyết định thay thế của Trưởng ban: cần xác nhận và ghi lý do.',
    override_help: (label) => `Bạn sắp thay đổi thành “${label}”. Ghi rõ lý do vào ô ghi chú (bắt buộc), rồi bấm “Xác nhận thay đổi”.`,
    override_confirm: 'Xác nhận thay đổi',
    dup_title: 'Có thể là cùng một tờ phiếu được quét hai lần',
    dup_yes: 'Tính phiếu: đây là hai phiếu khác nhau',
    dup_keys: 'Tab để chọn nút; Esc để hủy.',
    cancel: 'Hủy',
    note_required: 'Ghi chú — lý do thay đổi (bắt buộc)',
    note_needed: 'Hãy ghi lý do vào ô ghi chú trước khi xác nhận.',
    this_scan: (b, p) => `Tờ đang xem: Lô ${b}, tờ thứ ${p}`,
    zoom_in: 'Phóng to (+)',
    zoom_out: 'Thu nhỏ (−)',
    zoom_fit: 'Vừa khung',
    contrast: 'Độ tương phản',
    beside_box: 'không có dấu trong ô nào; có nét bút bên cạnh ô',
    unknown_invalid: (n) => `${n} tờ không xác định được mẫu phiếu đã được quyết định là cả phiếu không hợp lệ (tính là phiếu thu về, không hợp lệ cho ai).`,
    blockers_title: 'Còn phải làm trước khi lập biên bản chính thức:',
    ready_final: 'Sẵn sàng lập biên bản chính thức: mọi mẫu phiếu đã khớp số, không còn gì chờ quyết định.',
    'block_exceptions-open': (b) => `${b.count} trường hợp chưa quyết định xong.`,
    'block_pending-rows': (b) => `${b.count} dòng của các phiếu đã tính còn chờ Ban kiểm phiếu quyết định.`,
    'block_unknown-form': (b) => `${b.count} tờ chưa xác định được mẫu phiếu.`,
    'block_pending-ballots': (b) => `Mẫu ${b.form}: ${b.count} phiếu còn chờ quyết định.`,
    'block_counts-missing': (b) => `Mẫu ${b.form}: chưa nhập số đại biểu có mặt, số phiếu phát ra, số phiếu thu về.`,
    'block_sheets-missing': (b) => `Mẫu ${b.form}: đã đọc ${b.read} tờ nhưng Ban kiểm phiếu đếm ${b.collected} phiếu thu về: còn thiếu ${b.count} tờ.`,
    'block_sheets-extra': (b) => `Mẫu ${b.form}: đã đọc ${b.read} tờ nhưng Ban kiểm phiếu đếm ${b.collected} phiếu thu về: thừa ${b.count} tờ.`,
    'block_invalid-no-form': (b) => `${b.count} tờ không hợp lệ chưa ghi thuộc mẫu phiếu nào: Trưởng ban quyết định lại là 'invalid:MẪU'.`,
  },
  en: {
    title: 'Ballot review',
    queue: 'Queue',
    totals: 'Totals',
    logout: 'Log out',
    other_lang: 'Tiếng Việt',
    login_title: 'Log in to review ballots',
    login_help: 'For members of the counting board. The operator creates the accounts.',
    user: 'User name',
    password: 'Password',
    login: 'Log in',
    role_head: 'Head of the board',
    role_supervisor: 'Counting board member',
    test_session: 'TEST SESSION — not an official result',
    c_todo: 'Waiting for you',
    c_open: 'Not finished',
    c_second: 'Waiting for a second person',
    c_head: 'Waiting for the head',
    c_decided: 'Finished',
    filter: 'Reason:',
    all_reasons: 'All',
    show_done: 'Also show finished cases',
    start: 'Start reviewing',
    col_page: 'Page',
    col_reason: 'What to look at',
    col_form: 'Ballot form',
    col_paper: 'Find the paper',
    col_state: 'State',
    paper: (b, p) => `Batch ${b}, sheet ${p}`,
    row_of: (r) => `row ${r}`,
    whole_page: 'whole page',
    none_todo: 'Nothing is waiting for you. Thank you!',
    none: 'There are no cases.',
    s_open: 'Nobody decided yet',
    s_second: 'Waiting for a second person',
    s_head: 'Decisions differ — waiting for the head',
    s_resolved: 'Finished',
    s_mine: 'You decided',
    back: '← Back to the queue',
    next: 'Next case →',
    the_person: 'Person rated',
    machine_read: 'The machine read',
    box_scores: 'Ink the machine measured in each box',
    score: 'score',
    machine_words: 'The machine\'s words',
    twin_title: (b, p) => `The earlier scan with the same ink: batch ${b}, sheet ${p}`,
    st_marked: 'marked',
    st_marginal: 'faint, unsure',
    st_empty: 'empty',
    decide_row: 'Your decision for this row:',
    decide_page: 'Your decision for the whole page:',
    invalid_row: 'Not valid (for this person)',
    invalid_ballot: 'Whole ballot invalid',
    accept: 'Count the page as read',
    discard: 'Do not count (not a ballot / scanned twice)',
    count_as_form: (name) => `Count as form ${name}`,
    note: 'Note (optional)',
    keys_help: 'Shortcuts: the number or letter in the frame chooses; Esc goes back to the queue.',
    two_person: 'Two-person rule: two board members must decide the same way, neither seeing the other\'s decision. If they differ, the head decides.',
    waiting_second: 'You have decided. Waiting for another board member to decide independently.',
    waiting_head: 'Two members decided differently. The head of the board will decide.',
    head_now: 'Two members decided differently. The head\'s decision is final.',
    resolved_as: 'Decided:',
    decisions: 'Decisions',
    saved: 'Decision recorded.',
    saved_second: 'Recorded. Another board member must also decide.',
    saved_head: 'Recorded. The two decisions differ — passed to the head.',
    saved_done: 'Recorded. This case is finished.',
    not_yours: 'This case is not waiting for your decision.',
    change_head: 'The head can change the result with a new decision.',
    no_image: 'No image: the scanned file could not be read. Find the paper by its place below.',
    upside_down: 'The sheet was fed upside down; the picture is turned upright.',
    where_paper: 'Where the paper is',
    form: 'Ballot form',
    unknown_form: 'not known',
    reading_all: 'The machine\'s reading of the whole page',
    totals_title: 'Count results (live)',
    provisional: (n) => `PROVISIONAL — ${n} case(s) not decided yet.`,
    final_ok: 'Every case has been decided.',
    updated: 'Updated at',
    ballots: 'Ballots scanned',
    valid_ballots: 'Valid ballots',
    invalid_ballots: 'Invalid ballots',
    collected_ballots: 'Ballots collected (the board\'s count)',
    pending_ballots: 'Whole ballots awaiting a decision',
    base: 'Percentages of',
    base_est: '(ballots collected not entered yet — ballots scanned used for now)',
    t_no: 'No.',
    t_name: 'Full name',
    t_post: 'Post',
    t_valid: 'Valid',
    t_notvalid: 'Not valid',
    t_pending: 'Pending',
    t_band: 'Consequence under the rules',
    unknown_pages: (n) => `${n} page(s) whose form is not known yet (awaiting a decision).`,
    err_network: 'Cannot reach the review server. Check that "phieu review" is still running.',
    err_login: 'Wrong name or password.',
    err_locked: 'Too many failed logins. Locked for a while; try again later.',
    err_expired: 'Your login has expired. Please log in again.',
    undo: 'Undo',
    saved_short: (place) => `Recorded: ${place}.`,
    saved_finished: 'Finished.',
    with_page: 'Closed with its page (the page was set aside: not counted, or whole ballot invalid)',
    undone: 'Undone; decide again.',
    loading: 'Loading the pictures… the buttons work once they are shown.',
    done_others: (n) => `You are done; ${n} case(s) wait for others.`,
    done_all: 'Every case is finished.',
    not_again: 'You have decided this case. Under the two-person rule another member must decide it.',
    override_title: 'This case is decided. Changing it is the head\'s override: it needs a confirmation and a note.',
    override_help: (label) => `You are about to change it to “${label}”. Write the reason in the note (required), then press “Confirm the change”.`,
    override_confirm: 'Confirm the change',
    dup_title: 'Possibly the same paper scanned twice',
    dup_yes: 'Count it: they are two different ballots',
    dup_keys: 'Tab moves between the buttons; Esc cancels.',
    cancel: 'Cancel',
    note_required: 'Note — why it is changed (required)',
    note_needed: 'Write the reason in the note before confirming.',
    this_scan: (b, p) => `This scan: batch ${b}, sheet ${p}`,
    zoom_in: 'Zoom in (+)',
    zoom_out: 'Zoom out (−)',
    zoom_fit: 'Fit',
    contrast: 'Contrast',
    beside_box: 'no box marked; pen ink beside a box',
    unknown_invalid: (n) => `${n} page(s) of unknown form decided "whole ballot invalid" (collected, valid for nobody).`,
    blockers_title: 'Still to do before the final report:',
    ready_final: 'Ready for the final report: every form reconciles and nothing is pending.',
    'block_exceptions-open': (b) => `${b.count} exception(s) still open.`,
    'block_pending-rows': (b) => `${b.count} row(s) of counted ballots still await the board's decision.`,
    'block_unknown-form': (b) => `${b.count} page(s) whose form is not known await the board's decision.`,
    'block_pending-ballots': (b) => `Form ${b.form}: ${b.count} ballot(s) still pending.`,
    'block_counts-missing': (b) => `Form ${b.form}: the board's counts (present, issued, collected) are not entered.`,
    'block_sheets-missing': (b) => `Form ${b.form}: ${b.read} sheet(s) read but the board counted ${b.collected} collected: ${b.count} missing.`,
    'block_sheets-extra': (b) => `Form ${b.form}: ${b.read} sheet(s) read but the board counted ${b.collected} collected: ${b.count} too many.`,
    'block_invalid-no-form': (b) => `${b.count} sheet(s) decided invalid as a whole name no form: the head decides each again as 'invalid:FORM'.`,
  },
};

/* What each reason code means, for a board member. */
const REASONS = {
  vi: {
    'marginal-mark': ['Dấu mờ', 'Có dấu mờ hoặc nhỏ trong một ô: không chắc người bỏ phiếu có đánh hay không.'],
    'mark-beside-box': ['Dấu bên cạnh ô', 'Không ô nào được đánh, nhưng có nét bút bên cạnh một ô (khoanh tròn ô, hoặc đánh dấu ngay cạnh ô): Ban xem ý người bỏ phiếu.'],
    'weak-second-mark': ['Dấu thứ hai rất nhạt', 'Hai ô có dấu, nhưng một dấu nhạt hơn hẳn dấu kia (có thể là dấu đã tẩy, vết bẩn, hoặc chọn hai ô): Ban xem lá phiếu.'],
    'overvote-confirm': ['Đánh nhiều ô', 'Dòng này có nhiều hơn một ô được đánh. Xác nhận là không hợp lệ hay chọn ô đúng.'],
    'possible-duplicate': ['Có thể quét trùng', 'Vết mực giống hệt một tờ đã quét: có thể cùng một tờ giấy được quét hai lần.'],
    'double-feed': ['Có thể kéo hai tờ', 'Máy quét có thể đã kéo hai tờ cùng lúc: kiểm tra tờ giấy.'],
    'back-not-blank': ['Mặt sau có nội dung', 'Mặt sau của tờ phiếu không trắng.'],
    'not-registered': ['Không nhận ra tờ phiếu', 'Máy không khớp được tờ này với mẫu phiếu (điều máy thấy được ghi ở dòng chi tiết bên dưới): tờ có thể bị gấp, rách, nhòe, hoặc không phải phiếu. Hãy xem tờ giấy.'],
    'wrong-form': ['Sai mẫu phiếu', 'Tờ này không phải mẫu phiếu của kỳ họp này.'],
    'code-unreadable': ['Không đọc được mã phiếu', 'Không đọc được mã mẫu phiếu in trên tờ. Nếu nhìn tờ giấy thấy rõ là phiếu của kỳ họp này, chọn “Tính theo mẫu …”.'],
    'form-set-by-board': ['Mẫu do Ban kiểm phiếu xác định', 'Tờ này được đọc lại theo mẫu phiếu mà Ban kiểm phiếu đã chọn.'],
    'unreadable-file': ['Tệp ảnh hỏng', 'Tệp ảnh quét không đọc được.'],
    'test-ballot': ['Phiếu thử', 'Đây là phiếu thử (PHIẾU THỬ), không phải phiếu thật.'],
    'official-ballot-in-test-session': ['Phiếu thật trong phiên thử', 'Phiếu chính thức được quét trong phiên thử.'],
    'blank-page': ['Tờ trắng', 'Tờ giấy trắng hoặc mặt sau.'],
  },
  en: {
    'marginal-mark': ['Faint mark', 'A faint or small mark in a box: unclear whether the voter marked it.'],
    'mark-beside-box': ['Mark beside a box', 'No box is marked, but there is pen ink beside one (the box circled, or a mark made next to it): the board reads what the voter meant.'],
    'weak-second-mark': ['Weak second mark', 'Two boxes are marked, but one mark is much lighter than the other (an erased mark, a smudge, or two choices): the board reads the ballot.'],
    'overvote-confirm': ['Several boxes marked', 'More than one box is marked in this row. Confirm it is not valid, or choose the right box.'],
    'possible-duplicate': ['Possibly scanned twice', 'The ink matches a sheet already scanned: the same paper may have been scanned twice.'],
    'double-feed': ['Possibly two sheets', 'The scanner may have pulled two sheets at once: check the paper.'],
    'back-not-blank': ['Back side not blank', 'The back of this sheet is not blank.'],
    'not-registered': ['Page not recognised', 'The machine could not match this sheet to a ballot form (what it found is in the details below): it may be folded, torn, smudged, or not a ballot. Look at the paper.'],
    'wrong-form': ['Wrong form', 'This sheet is not a ballot form of this session.'],
    'code-unreadable': ['Form code unreadable', 'The printed form code could not be read. If the paper is clearly a ballot of this session, choose “Count as form …”.'],
    'form-set-by-board': ['Form set by the board', 'This sheet was read again as the form the counting board chose.'],
    'unreadable-file': ['Damaged image file', 'The scanned image file could not be read.'],
    'test-ballot': ['Test ballot', 'This is a test ballot, not a real one.'],
    'official-ballot-in-test-session': ['Real ballot in a test session', 'An official ballot was scanned in a test session.'],
    'blank-page': ['Blank page', 'An empty sheet or a back side.'],
  },
};

/* English names of the printed choice labels (the forms print Vietnamese). */
const CHOICE_EN = { high: 'High confidence', trust: 'Confidence', low: 'Low confidence', distrust: 'No confidence' };

const state = {
  lang: localStorage.getItem('phieu-lang') === 'en' ? 'en' : 'vi',
  me: null,
  csrf: '',
  queueFilter: '',
  showDone: false,
  totalsTimer: null,
  keyHandler: null,
  current: null,
  busy: false,
  ready: false,
  queueTimer: null,
  viewSheet: null,
};

function t(key, ...args) {
  const v = TEXT[state.lang][key];
  return typeof v === 'function' ? v(...args) : v;
}

function reasonTitle(code, fallback) {
  const r = REASONS[state.lang][code];
  return r ? r[0] : (fallback || code);
}

function reasonText(code, fallback) {
  const r = REASONS[state.lang][code];
  return r ? r[1] : (fallback || '');
}

function choiceLabel(key, printed) {
  if (state.lang === 'en' && CHOICE_EN[key]) return CHOICE_EN[key];
  return printed || key;
}

/* What a person calls a form: its display name, with its council when another form of
 * the session has the same name (two councils' ballots of one kind). */
function formLabel(id, name) {
  if (!name) return t('unknown_form');
  const forms = (state.me && state.me.session && state.me.session.forms) || [];
  const self = forms.find((f) => f.id === id);
  const twin = forms.some((f) => f.id !== id && f.name === name);
  return twin && self && self.council ? name + ' — ' + self.council : name;
}

/* A DOM element: h('div', {class: 'x'}, child, 'text', ...). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return el;
}

function main() { return document.getElementById('main'); }

function show(...nodes) {
  const m = main();
  m.replaceChildren(...nodes);
  window.scrollTo(0, 0);
}

/* A message in the top bar, which never covers a button; with undoId, an "Undo" button
 * for that case's decision. It stays until the next message. */
function toast(text, undoId) {
  const el = document.getElementById('toast');
  const parts = [h('span', { id: 'toast-text', title: text }, text)];
  if (undoId) parts.push(h('button', { type: 'button', class: 'plain', id: 'undo', onclick: () => undo(undoId) }, t('undo')));
  el.replaceChildren(...parts);
}

class ApiError extends Error {
  constructor(status, body) {
    /* The server words each error in Vietnamese (message) and in English (message_en). */
    super((body && ((state.lang === 'en' && body.message_en) || body.message)) || ('HTTP ' + status));
    this.status = status;
    this.code = body && body.error;
    this.body = body;
  }
}

async function api(path, body) {
  const opts = { method: body ? 'POST' : 'GET', credentials: 'same-origin', headers: {} };
  if (body) {
    opts.headers['Content-Type'] = 'application/json';
    if (state.csrf) opts.headers['X-CSRF-Token'] = state.csrf;
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    throw new ApiError(0, { message: t('err_network') });
  }
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (!res.ok) {
    if (res.status === 401 && path !== '/api/login' && state.me) {
      state.me = null;
      renderLogin(t('err_expired'));
    }
    throw new ApiError(res.status, data);
  }
  return data;
}

function setKeys(handler) {
  state.keyHandler = handler;
}

document.addEventListener('keydown', (ev) => {
  if (!state.keyHandler || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  /* A key held down repeats: only the first press counts. */
  if (ev.repeat) { ev.preventDefault(); return; }
  const tag = (ev.target && ev.target.tagName) || '';
  if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') {
    if (ev.key === 'Escape') ev.target.blur();
    return;
  }
  if (state.keyHandler(ev)) ev.preventDefault();
});

/* ---- top bar ---------------------------------------------------------------------------- */

function renderBar() {
  const bar = document.getElementById('bar');
  const me = state.me;
  bar.hidden = !me;
  document.documentElement.lang = state.lang;
  document.title = t('title') + ' — phieu';
  if (!me) return;
  const s = me.session || {};
  document.getElementById('bar-title').textContent = t('title') + (s.test ? ' — ' + t('test_session') : '');
  document.getElementById('bar-session').textContent = [s.council, s.name].filter(Boolean).join(' · ');
  document.getElementById('nav-queue').textContent = t('queue');
  document.getElementById('nav-totals').textContent = t('totals');
  document.getElementById('bar-user').textContent =
    me.user + ' (' + (me.role === 'head' ? t('role_head') : t('role_supervisor')) + ')';
  document.getElementById('lang').textContent = t('other_lang');
  document.getElementById('logout').textContent = t('logout');
  const page = location.hash.startsWith('#/totals') ? 'totals' : 'queue';
  document.getElementById('nav-queue').classList.toggle('active', page === 'queue');
  document.getElementById('nav-totals').classList.toggle('active', page === 'totals');
}

function switchLang() {
  state.lang = state.lang === 'vi' ? 'en' : 'vi';
  toast(''); /* a message stays in the language it was given in: drop it */
  localStorage.setItem('phieu-lang', state.lang);
  if (state.me) route(); else renderLogin();
}

/* ---- login ------------------------------------------------------------------------------ */

function renderLogin(message) {
  stopTotals();
  stopQueue();
  setKeys(null);
  renderBar();
  const err = h('p', { class: 'error', id: 'login-error', role: 'alert' }, message || '');
  const user = h('input', { id: 'login-user', name: 'user', autocomplete: 'username', required: true });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const button = h('button', { type: 'submit', id: 'login-button' }, t('login'));
  const form = h('form', { class: 'card login', id: 'login-form' },
    h('div', { class: 'lang-switch' }, h('button', { type: 'button', class: 'secondary', id: 'login-lang', onclick: switchLang }, t('other_lang'))),
    h('h1', {}, t('login_title')),
    h('p', { class: 'muted' }, t('login_help')),
    h('label', { for: 'login-user' }, t('user')), user,
    h('label', { for: 'login-password' }, t('password')), pass,
    button, err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    button.disabled = true;
    err.textContent = '';
    try {
      const r = await api('/api/login', { user: user.value.trim(), password: pass.value });
      state.csrf = r.csrf;
      state.me = await api('/api/me');
      state.csrf = state.me.csrf;
      if (!location.hash || location.hash === '#/' || location.hash === '#') location.hash = '#/queue';
      else route();
    } catch (e) {
      err.textContent = e.status === 429 ? t('err_locked') : e.status === 401 ? t('err_login') : e.message;
      pass.value = '';
      pass.focus();
    } finally {
      button.disabled = false;
    }
  });
  show(form);
  user.focus();
}

/* ---- queue ------------------------------------------------------------------------------ */

function stateBadge(item) {
  if (item.todo) return h('span', { class: 'state todo' }, item.state === 'head' ? t('s_head') : t('c_todo'));
  if (item.state === 'resolved') return h('span', { class: 'state resolved' }, t('s_resolved'));
  if (item.mine && item.state === 'second') return h('span', { class: 'state second' }, t('s_mine') + ' — ' + t('s_second'));
  return h('span', { class: 'state ' + item.state }, t('s_' + item.state));
}

/* How often the queue refreshes itself: a few seconds, as the totals. */
const QUEUE_REFRESH_MS = 4000;

function scheduleQueueRefresh() {
  stopQueue();
  state.queueTimer = setTimeout(() => {
    state.queueTimer = null;
    if (location.hash !== '' && location.hash !== '#/queue' && location.hash !== '#/') return;
    /* Not while the reason list is in use: it would close under the pointer. */
    if (document.activeElement && document.activeElement.id === 'reason-filter') scheduleQueueRefresh();
    else renderQueue(true).catch(showError);
  }, QUEUE_REFRESH_MS);
}

function stopQueue() {
  if (state.queueTimer) clearTimeout(state.queueTimer);
  state.queueTimer = null;
}

async function renderQueue(refresh) {
  stopTotals();
  if (!refresh) setKeys(null);
  const q = await api('/api/queue' + (state.queueFilter ? '?reason=' + encodeURIComponent(state.queueFilter) : ''));
  const c = q.counts;
  const counts = h('div', { class: 'counts', id: 'counts' },
    h('div', { class: 'count todo', id: 'count-todo' }, h('b', {}, c.todo), t('c_todo')),
    h('div', { class: 'count', id: 'count-open' }, h('b', {}, c.open), t('c_open')),
    state.me.session.two_person_rule ? h('div', { class: 'count', id: 'count-second' }, h('b', {}, c.second), t('c_second')) : null,
    state.me.session.two_person_rule ? h('div', { class: 'count', id: 'count-head' }, h('b', {}, c.head), t('c_head')) : null,
    h('div', { class: 'count', id: 'count-decided' }, h('b', {}, c.decided), t('c_decided')));

  const select = h('select', { id: 'reason-filter' }, h('option', { value: '' }, t('all_reasons')));
  const codes = new Set(Object.keys(q.reasons));
  if (state.queueFilter) codes.add(state.queueFilter);
  for (const code of [...codes].sort()) {
    const n = q.reasons[code] || 0;
    select.appendChild(h('option', { value: code, selected: code === state.queueFilter }, reasonTitle(code) + ' (' + n + ')'));
  }
  select.addEventListener('change', () => { state.queueFilter = select.value; renderQueue().catch(showError); });
  const done = h('input', { type: 'checkbox', id: 'show-done', checked: state.showDone });
  done.addEventListener('change', () => { state.showDone = done.checked; renderQueue().catch(showError); });

  const items = q.items.filter((it) => state.showDone || it.state !== 'resolved');
  const first = items.find((it) => it.todo);
  const start = h('button', { type: 'button', id: 'start', disabled: !first, onclick: () => { if (first) location.hash = '#/exception/' + first.id; } }, t('start'));
  const toolbar = h('div', { class: 'toolbar' },
    start,
    h('label', { for: 'reason-filter' }, t('filter')), select,
    h('label', {}, done, ' ', t('show_done')));

  let body;
  if (items.length === 0) {
    body = h('div', { class: 'card empty' }, h('p', {}, c.total === 0 ? t('none') : c.open === 0 ? t('done_all') : t('done_others', c.open)));
  } else {
    const rows = items.map((it) => {
      const tr = h('tr', { class: 'item' + (it.todo ? '' : ' done'), 'data-id': it.id, tabindex: 0 },
        h('td', { class: 'thumb' }, h('img', { src: '/img/' + it.sheet + '/thumb.png', alt: '', loading: 'lazy' })),
        h('td', {}, h('strong', {}, reasonTitle(it.reason, it.text)), ' — ',
          it.row ? t('row_of', it.row) + (it.person ? ': ' + it.person : '') : t('whole_page')),
        h('td', {}, formLabel(it.form, it.form_name || it.form_title)),
        h('td', { class: 'paper-place' }, t('paper', it.batch, it.position)),
        h('td', {}, stateBadge(it)));
      const open = () => { location.hash = '#/exception/' + it.id; };
      tr.addEventListener('click', open);
      tr.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
      return tr;
    });
    body = h('table', { id: 'queue' },
      h('thead', {}, h('tr', {}, h('th', {}, t('col_page')), h('th', {}, t('col_reason')), h('th', {}, t('col_form')), h('th', {}, t('col_paper')), h('th', {}, t('col_state')))),
      h('tbody', {}, rows));
  }
  const doneLine = c.todo === 0 && c.total > 0
    ? h('p', { class: 'banner ' + (c.open === 0 ? 'ok' : 'wait'), id: 'done-message' }, c.open === 0 ? t('done_all') : t('done_others', c.open))
    : null;
  if (refresh) {
    const y = window.scrollY;
    main().replaceChildren(h('h1', {}, t('queue')), counts, doneLine, toolbar, body);
    window.scrollTo(0, y);
  } else show(h('h1', {}, t('queue')), counts, doneLine, toolbar, body);
  /* The queue follows the other members' decisions and the scanners by itself. */
  scheduleQueueRefresh();
  setKeys((ev) => {
    if (ev.key === 'Enter' && first) { location.hash = '#/exception/' + first.id; return true; }
    return false;
  });
}

/* ---- the page viewer: zoom, pan, contrast ----------------------------------------------- */

/* How far the page can be enlarged: at 8x a 1240-pixel page shows a pencil stroke's grain. */
const ZOOM_MAX = 8;
const ZOOM_STEP = 1.25;

/* One zoom, pan and contrast shared by every page shown (a rescan beside its earlier scan is
 * then always at the same scale). */
const view = { zoom: 1, x: 0, y: 0, contrast: 1 };

function resetView() { view.zoom = 1; view.x = 0; view.y = 0; view.contrast = 1; }

function applyView() {
  for (const st of document.querySelectorAll('.viewer .stage')) {
    st.style.transform = 'translate(' + view.x + 'px,' + view.y + 'px) scale(' + view.zoom + ')';
  }
  /* Contrast: each channel raised to a power (gamma): white paper stays white, a faint
   * pencil grey of 0.8 becomes 0.64 at 2, 0.41 at 4. */
  for (const f of document.querySelectorAll('#ink-filter feComponentTransfer > *')) f.setAttribute('exponent', String(view.contrast));
  for (const img of document.querySelectorAll('.viewer img')) {
    img.style.filter = view.contrast === 1 ? '' : 'url(#ink-filter)';
  }
  const z = document.getElementById('zoom-level');
  if (z) z.textContent = Math.round(view.zoom * 100) + '%';
}

/* Zooms by factor around the point (px, py) of a viewer (its own pixels). */
function zoomAt(factor, px, py) {
  const z = Math.max(1, Math.min(ZOOM_MAX, view.zoom * factor));
  const k = z / view.zoom;
  view.x = px - (px - view.x) * k;
  view.y = py - (py - view.y) * k;
  view.zoom = z;
  if (z === 1) { view.x = 0; view.y = 0; }
  applyView();
}

/* A viewer around a page (its image and outlines), turned upright when the sheet was fed
 * upside down: wheel or pinch zooms, dragging pans. */
function viewer(wrap, upsideDown) {
  if (upsideDown) wrap.classList.add('upright');
  const stage = h('div', { class: 'stage' }, wrap);
  const v = h('div', { class: 'viewer' }, stage);
  v.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    const r = v.getBoundingClientRect();
    zoomAt(ev.deltaY < 0 ? ZOOM_STEP : 1 / ZOOM_STEP, ev.clientX - r.left, ev.clientY - r.top);
  }, { passive: false });
  /* One finger or the mouse drags; two fingers pinch. */
  let drag = null;
  const touches = new Map();
  const spread = () => { const [p, q] = [...touches.values()]; return Math.hypot(p.x - q.x, p.y - q.y); };
  v.addEventListener('pointerdown', (ev) => {
    touches.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
    drag = touches.size === 1 ? { x: ev.clientX - view.x, y: ev.clientY - view.y } : { pinch: spread() };
    v.setPointerCapture(ev.pointerId);
  });
  v.addEventListener('pointermove', (ev) => {
    if (!drag || !touches.has(ev.pointerId)) return;
    touches.set(ev.pointerId, { x: ev.clientX, y: ev.clientY });
    if (drag.pinch && touches.size === 2) {
      const d = spread(), r = v.getBoundingClientRect();
      const [p, q] = [...touches.values()];
      if (drag.pinch > 0) zoomAt(d / drag.pinch, (p.x + q.x) / 2 - r.left, (p.y + q.y) / 2 - r.top);
      drag.pinch = d;
      return;
    }
    if (drag.pinch || view.zoom === 1) return;
    view.x = ev.clientX - drag.x;
    view.y = ev.clientY - drag.y;
    applyView();
  });
  const lift = (ev) => { touches.delete(ev.pointerId); drag = null; };
  v.addEventListener('pointerup', lift);
  v.addEventListener('pointercancel', lift);
  return v;
}

function viewControls() {
  const contrast = h('input', { type: 'range', id: 'contrast', min: '1', max: '4', step: '0.25', value: String(view.contrast), 'aria-label': t('contrast') });
  contrast.addEventListener('input', () => { view.contrast = Number(contrast.value); applyView(); });
  const centre = () => { const v = document.querySelector('.viewer'); return v ? [v.clientWidth / 2, v.clientHeight / 2] : [0, 0]; };
  return h('div', { class: 'view-controls' },
    h('button', { type: 'button', class: 'secondary', id: 'zoom-out', title: t('zoom_out'), onclick: () => zoomAt(1 / ZOOM_STEP, ...centre()) }, '−'),
    h('span', { id: 'zoom-level' }, '100%'),
    h('button', { type: 'button', class: 'secondary', id: 'zoom-in', title: t('zoom_in'), onclick: () => zoomAt(ZOOM_STEP, ...centre()) }, '+'),
    h('button', { type: 'button', class: 'secondary', id: 'zoom-fit', onclick: () => { view.zoom = 1; view.x = 0; view.y = 0; applyView(); } }, t('zoom_fit')),
    h('label', { for: 'contrast' }, t('contrast')), contrast);
}

/* ---- one exception ---------------------------------------------------------------------- */

/* A full bar is a clear X: the reader's scores for firm marks run from about 0.1 up. */
const SCORE_FULL_BAR = 0.12;

function scoreBox(b) {
  const bar = h('span', {});
  bar.style.width = Math.round(Math.max(0, Math.min(1, b.score / SCORE_FULL_BAR)) * 100) + '%';
  const score = b.score.toFixed(3).replace('.', state.lang === 'vi' ? ',' : '.');
  return h('div', { class: 'box ' + b.state, 'data-choice': b.choice },
    h('div', { class: 'label' }, choiceLabel(b.choice, b.label)),
    h('div', { class: 'bar' }, bar),
    h('div', { class: 'verdict' }, t('st_' + b.state)),
    h('div', { class: 'score muted' }, t('score') + ' ' + score));
}

function readingText(row, ex, choices) {
  if (ex.reason === 'mark-beside-box' && ex.row === row.row) return t('beside_box');
  if (row.reading === 'review') return t('st_marginal');
  if (row.reading === 'blank') return state.lang === 'vi' ? 'không đánh ô nào' : 'no box marked';
  if (row.reading === 'overvote') return state.lang === 'vi' ? 'đánh nhiều ô' : 'several boxes marked';
  const c = choices.find((x) => x.choice === row.reading);
  return c ? choiceLabel(c.choice, c.label) : row.reading;
}

function decisionLabel(ex, choice) {
  if (choice === 'invalid') return ex.row ? t('invalid_row') : t('invalid_ballot');
  if (choice === 'accept') return t('accept');
  if (choice === 'discard') return t('discard');
  if (choice.startsWith('read:')) return bt('read_label'); /* board.js */
  if (choice === 'with-page') return t('with_page');
  if (choice.startsWith('form:')) {
    const f = ex.choices.find((x) => x.choice === choice);
    return t('count_as_form', f && f.name ? formLabel(f.form, f.name) : choice.slice(5));
  }
  if (choice.startsWith('invalid:')) {
    const f = ex.choices.find((x) => x.choice === choice);
    return t('invalid_ballot') + ' — ' + (f && (f.name || f.title) ? (f.name || f.title) : choice.slice(8));
  }
  const c = ex.choices.find((x) => x.choice === choice);
  return c ? choiceLabel(c.choice, c.label) : choice;
}

/* The key for each decision button: 1, 2, 3 for the choices; 0 for not valid; letters for
 * page decisions; 1, 2, ... for "count as form" on a rejected page (it has no choices). */
function keyFor(c, index) {
  switch (c.kind) {
    case 'choice': return String(index + 1);
    case 'form': return index < 9 ? String(index + 1) : '';
    case 'row-invalid': return '0';
    case 'accept': return 'A';
    case 'ballot-invalid': return c.form ? '' : 'K';
    case 'discard': return 'D';
    default: return '';
  }
}

/* A decision is taken only once the case has been on screen this long with its pictures
 * loaded: a key held down or pressed twice must not decide the next case, which the
 * person has not seen yet. 400 ms is about the time to notice that the picture changed. */
const DECIDE_ARM_MS = 400;

async function renderException(id) {
  stopTotals();
  stopQueue();
  setKeys(null);
  const ex = await api('/api/exception/' + encodeURIComponent(id));
  state.current = ex;
  state.ready = false;
  if (state.viewSheet !== ex.sheet) { resetView(); state.viewSheet = ex.sheet; }
  const choiceRows = ex.choices.filter((c) => c.kind === 'choice');
  const formChoices = ex.choices.filter((c) => c.kind === 'form');

  /* Left: the whole page, affected rows outlined; a possible rescan beside its earlier
   * scan, at the same scale. */
  let pageView;
  if (ex.has_image) {
    const wrap = h('div', { class: 'page-wrap' }, h('img', { src: '/img/' + ex.sheet + '/page.png', alt: t('whole_page'), id: 'page-image' }));
    for (const r of ex.rows) {
      if (!r.rect || (ex.row === 0 && ex.rows.length > 1 && r.reading !== 'review')) continue;
      const o = h('div', { class: 'outline' + (ex.row === 0 ? ' soft' : '') });
      o.style.left = (r.rect.x * 100) + '%';
      o.style.top = (r.rect.y * 100) + '%';
      o.style.width = (r.rect.w * 100) + '%';
      o.style.height = (r.rect.h * 100) + '%';
      wrap.appendChild(o);
    }
    const pages = [h('figure', { class: 'page' },
      ex.twin ? h('figcaption', {}, t('this_scan', ex.batch, ex.position)) : null,
      viewer(wrap, ex.upside_down))];
    if (ex.twin && ex.twin.has_image) {
      const twinWrap = h('div', { class: 'page-wrap' }, h('img', { src: '/img/' + ex.twin.sheet + '/page.png', alt: t('twin_title', ex.twin.batch, ex.twin.position), id: 'twin-image' }));
      pages.push(h('figure', { class: 'page' }, h('figcaption', { class: 'twin-title' }, t('twin_title', ex.twin.batch, ex.twin.position)), viewer(twinWrap, ex.twin.upside_down)));
    }
    pageView = h('div', { class: 'page-view' + (pages.length > 1 ? ' pair' : '') }, viewControls(), h('div', { class: 'pages' }, pages));
  } else {
    pageView = h('div', { class: 'page-view card' }, h('p', { class: 'error' }, t('no_image')));
  }

  /* Right: what to decide, the decision buttons high enough to be seen without scrolling;
   * the details below them. */
  const parts = [
    h('h1', { id: 'reason-title' }, reasonTitle(ex.reason, ex.text), ' — ', ex.row ? t('row_of', ex.row) : t('whole_page')),
  ];
  const details = [
    h('p', {}, reasonText(ex.reason, ex.text)),
    ex.text ? h('p', { class: 'muted small', id: 'machine-text' }, t('machine_words') + ': ' + ex.text) : null,
    h('dl', { class: 'facts' },
      h('dt', {}, t('where_paper')), h('dd', { class: 'paper-place', id: 'paper-place' }, t('paper', ex.batch, ex.position)),
      h('dt', {}, t('form')), h('dd', { id: 'form-name', title: ex.form_council || null }, formLabel(ex.form, ex.form_name))),
  ];
  if (ex.upside_down) parts.push(h('p', { class: 'muted small', id: 'upside-down' }, t('upside_down')));

  if (ex.row > 0 && ex.rows.length) {
    const r = ex.rows[0];
    parts.push(h('p', { class: 'who-line' }, h('span', { class: 'muted' }, t('the_person') + ': '),
      h('span', { class: 'person', id: 'person' }, (r.name || '') + (r.post ? ' — ' + r.post : ''))));
    if (ex.has_image && r.rect) {
      const zoom = h('div', { class: 'zoom' + (ex.upside_down ? ' upright' : '') }, h('img', { src: '/img/' + ex.sheet + '/row/' + ex.row + '.png', alt: t('row_of', ex.row), id: 'row-zoom' }));
      parts.push(zoom);
    }
    const grid = h('div', { class: 'boxes', id: 'boxes', title: t('box_scores') }, r.boxes.map(scoreBox));
    grid.style.gridTemplateColumns = 'repeat(' + Math.max(1, r.boxes.length) + ', 1fr)';
    parts.push(grid);
    parts.push(h('p', { id: 'machine-read' }, h('span', { class: 'muted' }, t('machine_read') + ': '), h('strong', {}, readingText(r, ex, ex.choices))));
  } else if (ex.rows.length) {
    const table = h('table', { class: 'readings' },
      h('thead', {}, h('tr', {}, h('th', {}, t('t_no')), h('th', {}, t('t_name')), h('th', {}, t('machine_read')))),
      h('tbody', {}, ex.rows.map((r) => h('tr', {}, h('td', {}, r.row), h('td', {}, r.name || ''), h('td', {}, readingText(r, ex, ex.choices))))));
    details.push(h('details', {}, h('summary', {}, t('reading_all')), table));
  }

  /* State and the two-person rule. */
  if (ex.state === 'resolved') {
    parts.push(h('p', { class: 'banner ok', id: 'state-banner' }, t('resolved_as') + ' ' + decisionLabel(ex, ex.resolution)));
  } else if (ex.state === 'head') {
    parts.push(h('p', { class: 'banner warn', id: 'state-banner' }, state.me.role === 'head' ? t('head_now') : t('waiting_head')));
  } else if (ex.state === 'second' && ex.mine) {
    parts.push(h('p', { class: 'banner wait', id: 'state-banner' }, t('waiting_second')));
  } else if (state.me.session.two_person_rule) {
    details.push(h('p', { class: 'muted small' }, t('two_person')));
  }
  if (ex.decisions.length) {
    details.unshift(h('p', { class: 'muted' }, t('decisions') + ':'),
      h('ul', { id: 'decisions' }, ex.decisions.map((d) =>
        h('li', {}, d.user + (d.role === 'head' ? ' (' + t('role_head') + ')' : '') + ': ' + decisionLabel(ex, d.choice) + (d.note ? ' — “' + d.note + '”' : '')))));
  }

  /* The decision buttons: disabled until the case is ready (pictures loaded, on screen
   * DECIDE_ARM_MS); the head's change of a decided case asks for a confirmation and a note. */
  const override = ex.decide === 'override';
  const canDecide = ex.decide === 'ok' || override;
  const note = h('textarea', { id: 'note', maxlength: ex.note_max || 400, rows: 2 });
  const noteLabel = h('label', { for: 'note', class: 'muted', id: 'note-label' }, override ? t('note_required') : t('note'));
  const confirmBox = h('div', { class: 'confirm', id: 'override-confirm', hidden: true });
  /* Filled by askNotDuplicate when the server asks whether a page given a form is a second
   * scan of a sheet already read. */
  const dupBox = h('div', { class: 'confirm', id: 'duplicate-confirm', role: 'alertdialog', 'aria-labelledby': 'duplicate-title', 'aria-describedby': 'duplicate-text', tabindex: '-1', hidden: true });
  const buttons = ex.choices.map((c, i) => {
    const key = keyFor(c, choiceRows.indexOf(c) >= 0 ? choiceRows.indexOf(c)
      : formChoices.indexOf(c) >= 0 ? formChoices.indexOf(c) : i);
    const label = decisionLabel(ex, c.choice);
    /* A page whose code names another form is most likely another council's ballot: "count
     * as form X" is then the exception, so it is drawn plainer than "whole ballot invalid". */
    const plainForm = c.kind === 'form' && ex.reason === 'wrong-form';
    const look = plainForm ? 'secondary' : c.kind === 'choice' || c.kind === 'accept' || c.kind === 'form' ? '' : 'invalid';
    const b = h('button', {
      type: 'button',
      class: look + (ex.mine === c.choice ? ' chosen' : ''),
      title: c.kind === 'form' && c.council ? c.council : null,
      'data-choice': c.choice,
      'data-key': key,
      disabled: true,
    }, h('kbd', {}, key), label);
    const act = () => {
      if (!state.ready || state.current !== ex) return;
      if (override) askOverride(ex, c.choice, label, note, confirmBox);
      else decide(ex, c.choice, note.value);
    };
    b.addEventListener('click', act);
    return { key, button: b, choice: c.choice, last: plainForm, act };
  });
  buttons.sort((x, y) => Number(x.last) - Number(y.last));
  parts.push(h('h2', {}, ex.row ? t('decide_row') : t('decide_page')));
  /* Why not (unless the state banner above says it already). */
  if (!canDecide && !(ex.decide === 'head-only' && ex.state === 'head')) parts.push(h('p', { class: 'muted', id: 'not-yours' }, refusalText(ex)));
  else if (override) parts.push(h('p', { class: 'banner warn', id: 'override-note' }, t('override_title')));
  const readyLine = h('p', { class: 'muted small', id: 'ready-line' }, canDecide ? t('loading') : '');
  parts.push(h('div', { class: 'choices', id: 'choices' }, buttons.map((x) => x.button)), readyLine, confirmBox, dupBox);
  parts.push(boardReadLink(ex)); /* board.js: the board reads a page the machine could not */
  parts.push(noteLabel, note);
  parts.push(h('div', { class: 'nav-row' },
    h('button', { type: 'button', class: 'secondary', id: 'back', onclick: () => { location.hash = '#/queue'; } }, t('back')),
    h('span', { class: 'muted keys' }, t('keys_help')),
    ex.next ? h('button', { type: 'button', class: 'secondary', id: 'skip', onclick: () => { location.hash = '#/exception/' + ex.next; } }, t('next')) : null));
  parts.push(h('div', { class: 'details' }, details));

  show(h('div', { class: 'exception' }, pageView, h('div', { class: 'card', id: 'decide-panel', 'data-id': ex.id }, parts)));
  applyView();
  armDecisions(ex, buttons, canDecide, readyLine);
  setKeys((ev) => {
    if (ev.key === 'Escape' && !dupBox.hidden) { closeNotDuplicate(dupBox); return true; }
    if (ev.key === 'Escape') { location.hash = '#/queue'; return true; }
    if (ev.key.toUpperCase() === 'B' && boardReadable(ex)) { location.hash = '#/board-read/' + ex.id; return true; }
    if (ev.key === '+' || ev.key === '=') { document.getElementById('zoom-in')?.click(); return true; }
    if (ev.key === '-') { document.getElementById('zoom-out')?.click(); return true; }
    /* Keys decide only what waits for this user, and only once it is ready: a settled
     * case changes by a click, with a confirmation. */
    if (!ex.todo || !canDecide || !state.ready) return false;
    const k = ev.key.length === 1 ? ev.key.toUpperCase() : ev.key;
    const hit = buttons.find((x) => x.key === k);
    if (hit) { hit.act(); return true; }
    return false;
  });
}

/* Enables the decision buttons once every picture of the case has loaded (or failed: the
 * board then looks at the paper) and the case has been on screen DECIDE_ARM_MS. */
function armDecisions(ex, buttons, canDecide, readyLine) {
  const shown = performance.now();
  const imgs = [...document.querySelectorAll('#page-image, #row-zoom, #twin-image')];
  const loaded = Promise.all(imgs.map((img) => (img.complete ? Promise.resolve()
    : new Promise((res) => { img.addEventListener('load', res, { once: true }); img.addEventListener('error', res, { once: true }); }))));
  loaded.then(() => new Promise((res) => setTimeout(res, Math.max(0, DECIDE_ARM_MS - (performance.now() - shown)))))
    .then(() => {
      if (state.current !== ex) return;
      state.ready = true;
      readyLine.textContent = '';
      for (const x of buttons) x.button.disabled = !canDecide;
      document.getElementById('decide-panel')?.setAttribute('data-ready', '1');
    });
}

function refusalText(ex) {
  switch (ex.decide) {
    case 'decided-already': return t('not_again');
    case 'head-only': return t('waiting_head');
    case 'settled': return ex.state === 'resolved' ? t('change_head') : t('not_yours');
    default: return t('not_yours');
  }
}

/* The head changes a decided case: the choice is named, a note is required, and a second
 * click confirms. Shown under the buttons, never over them. */
function askOverride(ex, choice, label, note, box) {
  box.hidden = false;
  const err = h('p', { class: 'error', id: 'override-error' });
  const confirm = h('button', { type: 'button', id: 'override-yes' }, t('override_confirm'));
  confirm.addEventListener('click', () => {
    if (!note.value.trim()) { err.textContent = t('note_needed'); note.focus(); return; }
    decide(ex, choice, note.value, true);
  });
  box.replaceChildren(
    h('p', {}, t('override_help', label)),
    h('div', { class: 'confirm-row' }, confirm,
      h('button', { type: 'button', class: 'secondary', id: 'override-no', onclick: () => { box.hidden = true; box.replaceChildren(); } }, t('cancel'))),
    err);
  note.focus();
}

/* The page, read as the form chosen, looks like a sheet already read (the server's 409
 * "duplicate-confirm"): its words say where that paper is and what to do. Counting it
 * needs this member's own confirmation that the two papers are two ballots; cancelling
 * records nothing. Under the buttons, never over them; Esc cancels. */
function askNotDuplicate(ex, choice, override, message) {
  const box = document.getElementById('duplicate-confirm');
  if (!box) return;
  const yes = h('button', { type: 'button', id: 'duplicate-yes' }, t('dup_yes'));
  yes.addEventListener('click', () => {
    const note = document.getElementById('note');
    decide(ex, choice, note ? note.value : '', override, true);
  });
  box.replaceChildren(
    h('p', { id: 'duplicate-title' }, h('strong', {}, t('dup_title'))),
    h('p', { id: 'duplicate-text' }, message),
    h('div', { class: 'confirm-row' }, yes,
      h('button', { type: 'button', class: 'secondary', id: 'duplicate-no', onclick: () => closeNotDuplicate(box) }, t('cancel'))),
    h('p', { class: 'muted small' }, t('dup_keys')));
  box.hidden = false;
  box.focus();
}

function closeNotDuplicate(box) {
  box.hidden = true;
  box.replaceChildren();
  document.querySelector('#choices button:not([disabled])')?.focus();
}

async function decide(ex, choice, note, override, notDuplicate) {
  if (state.busy || !state.ready || state.current !== ex) return;
  state.busy = true;
  state.ready = false; /* one decision per case shown */
  document.querySelectorAll('#choices button').forEach((b) => { b.disabled = true; });
  document.getElementById('duplicate-yes')?.setAttribute('disabled', '');
  try {
    const body = { choice, note: note || '' };
    if (override) body.override = true;
    if (notDuplicate) body.not_duplicate = true;
    const r = await api('/api/exception/' + ex.id + '/decide', body);
    /* Short, to fit the bar: where the decided paper is; undo stays offered until a
     * second member decides (the server refuses it after that). */
    const place = t('paper', ex.batch, ex.position) + (ex.row ? ', ' + t('row_of', ex.row) : '');
    const words = r.state === 'head' ? t('saved_head') : r.state === 'resolved' ? t('saved_short', place) + ' ' + t('saved_finished') : t('saved_short', place);
    toast(words, r.state === 'second' || (!state.me.session.two_person_rule && r.state !== 'head') ? ex.id : null);
    location.hash = r.next ? '#/exception/' + r.next : '#/queue';
  } catch (e) {
    if (e.code === 'duplicate-confirm') askNotDuplicate(ex, choice, override, e.message);
    else toast(e.message);
    state.ready = true;
    const canDecide = ex.decide === 'ok' || ex.decide === 'override';
    document.querySelectorAll('#choices button').forEach((b) => { b.disabled = !canDecide; });
  } finally {
    state.busy = false;
  }
}

async function undo(id) {
  try {
    await api('/api/exception/' + id + '/undo', {});
    toast(t('undone'));
    if (location.hash === '#/exception/' + id) route();
    else location.hash = '#/exception/' + id;
  } catch (e) {
    toast(e.message);
  }
}

/* ---- totals ----------------------------------------------------------------------------- */

function stopTotals() {
  if (state.totalsTimer) clearInterval(state.totalsTimer);
  state.totalsTimer = null;
}

/* f is a form of the tally's document (phieu_tally_json, as `phieu tally --json`). */
function totalsTable(f) {
  /* Every person has the form's levels, in the form's order. */
  const choices = f.persons.length ? f.persons[0].levels : [];
  const head = h('tr', {},
    h('th', {}, t('t_no')), h('th', {}, t('t_name')), h('th', {}, t('t_post')),
    choices.map((c) => h('th', { class: 'num' }, choiceLabel(c.key, c.label))),
    h('th', { class: 'num' }, t('t_valid')), h('th', { class: 'num' }, t('t_notvalid')),
    h('th', { class: 'num' }, t('t_pending')), h('th', {}, t('t_band')));
  const rows = f.persons.map((p) => h('tr', { class: p.pending ? 'pending' : '', 'data-person': p.number },
    h('td', {}, p.number), h('td', { class: 'name' }, p.name || ''), h('td', {}, p.post || ''),
    p.levels.map((c) => h('td', { class: 'num', 'data-choice': c.key, 'data-count': c.count },
      String(c.count), h('span', { class: 'pct' }, c.percent))),
    h('td', { class: 'num' }, p.valid), h('td', { class: 'num' }, p.not_valid),
    h('td', { class: 'num' }, p.pending || ''),
    h('td', { class: 'band' }, state.lang === 'vi' ? p.band_vi : p.band_en)));
  return h('table', { class: 'totals', 'data-form': f.form }, h('thead', {}, head), h('tbody', {}, rows));
}

async function loadTotals() {
  const r = await api('/api/totals');
  const when = new Date().toLocaleTimeString(state.lang === 'vi' ? 'vi-VN' : 'en-GB');
  const parts = [
    h('h1', {}, t('totals_title')),
    h('p', { class: 'banner ' + (r.provisional ? 'wait' : 'ok'), id: 'provisional' },
      r.provisional ? t('provisional', r.exceptions_open) : t('final_ok')),
    h('p', { class: 'muted', id: 'updated' }, t('updated') + ' ' + when),
  ];
  if (r.unknown_form_pending) parts.push(h('p', { class: 'banner warn' }, t('unknown_pages', r.unknown_form_pending)));
  if (r.unknown_form_invalid) parts.push(h('p', { class: 'banner warn', id: 'unknown-invalid' }, t('unknown_invalid', r.unknown_form_invalid)));
  /* What blocks the final report: the server applies the rule of `phieu status`. */
  const blockers = r.blockers || [];
  parts.push(blockers.length
    ? h('div', { id: 'blockers' }, h('p', {}, t('blockers_title')),
      h('ul', {}, blockers.map((b) => h('li', { 'data-kind': b.kind }, t('block_' + b.kind, b) || b.kind))))
    : h('p', { class: 'banner ok', id: 'blockers' }, t('ready_final')));
  for (const f of r.forms) {
    parts.push(h('div', { class: 'card' },
      h('h2', {}, f.title, f.council ? h('span', { class: 'muted council' }, ' — ' + f.council) : null),
      h('dl', { class: 'facts' },
        /* Every sheet scanned is valid, invalid or pending; beside it the board's count. */
        h('dt', {}, t('ballots')), h('dd', { class: 'fact-ballots' }, f.ballots),
        h('dt', {}, t('valid_ballots')), h('dd', { class: 'fact-valid' }, f.valid_ballots),
        h('dt', {}, t('invalid_ballots')), h('dd', { class: 'fact-invalid' }, f.invalid_ballots),
        f.counts
          ? [h('dt', {}, t('collected_ballots')), h('dd', { class: 'fact-collected' }, f.counts.collected)] : null,
        f.pending_ballots ? [h('dt', {}, t('pending_ballots')), h('dd', {}, f.pending_ballots)] : null,
        h('dt', {}, t('base')), h('dd', {}, String(f.base), f.base_estimated ? ' ' + t('base_est') : '')),
      totalsTable(f)));
  }
  const y = window.scrollY;
  main().replaceChildren(...parts);
  window.scrollTo(0, y);
}

/* How often the totals refresh themselves: often enough to follow the decisions live. */
const TOTALS_REFRESH_MS = 3000;

async function renderTotals() {
  stopTotals();
  stopQueue();
  setKeys(null);
  await loadTotals();
  state.totalsTimer = setInterval(() => { loadTotals().catch(showError); }, TOTALS_REFRESH_MS);
}

/* ---- routing ---------------------------------------------------------------------------- */

function showError(e) {
  if (e && e.status === 401) return;
  show(h('div', { class: 'card' }, h('p', { class: 'error', role: 'alert' }, e.message || String(e)),
    h('button', { type: 'button', onclick: () => { location.hash = '#/queue'; route(); } }, t('back'))));
}

function route() {
  if (!state.me) { renderLogin(); return; }
  renderBar();
  const hash = location.hash || '#/queue';
  let p;
  const m = hash.match(/^#\/exception\/(\d+)$/);
  const board = hash.match(/^#\/board-read\/(\d+)$/);
  if (m) p = renderException(m[1]);
  else if (board) p = renderBoardRead(board[1]); /* board.js */
  else if (hash === '#/totals') p = renderTotals();
  else p = renderQueue();
  p.catch(showError);
}

async function start() {
  document.getElementById('lang').addEventListener('click', switchLang);
  document.getElementById('logout').addEventListener('click', async () => {
    try { await api('/api/logout', {}); } catch (e) { /* logged out either way */ }
    state.me = null;
    state.csrf = '';
    renderLogin();
  });
  window.addEventListener('hashchange', route);
  try {
    state.me = await api('/api/me');
    state.csrf = state.me.csrf;
  } catch (e) {
    state.me = null;
  }
  route();
}

start();
