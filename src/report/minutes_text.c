/*
 * minutes_text.c - every word of the biên bản kiểm phiếu that is not a figure or a name:
 * the header of an administrative document (Decree 30/2020/NĐ-CP), the opening, one
 * template per ballot kind, the consequence of each threshold band as a sentence, the
 * closing, the signatures and the technical appendix. minutes.c only lays them out, so a
 * province's own wording is changed here and nowhere else (docs/report.md, "Wording").
 */
#include "report/report_private.h"

static const minutes_texts texts_vi = {
    .nation = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    .motto = "Độc lập - Tự do - Hạnh phúc",
    .issuer = "BAN KIỂM PHIẾU",
    .number = "Số: ......../BB-BKP",
    .date_line = "%s, ngày %s tháng %s năm %s",
    .title = "BIÊN BẢN KIỂM PHIẾU",
    .subject_mixed = "Kết quả lấy phiếu tín nhiệm và bỏ phiếu tín nhiệm đối với người giữ "
                     "chức vụ do %s bầu",
    .blank = "......",
    .opening = "Hôm nay, vào hồi %s giờ %s phút, ngày %s tháng %s năm %s, tại %s, trong %s "
               "của %s, Ban kiểm phiếu gồm các ông (bà) có tên sau:",
    .board_line = "%d. Ông (bà) %s – %s",
    .role_head = "Trưởng ban",
    .role_secretary = "Thư ký",
    .role_member = "Ủy viên",
    .not_entered = "(chưa nhập)",
    .after_board = "Ban kiểm phiếu đã tiến hành kiểm phiếu theo %s. Kết quả như sau:",
    .delegates = "Tổng số đại biểu Hội đồng nhân dân: %d đại biểu; số đại biểu có mặt: %s.",
    .issued = "Số phiếu phát ra: %s; số phiếu thu vào: %s.",
    .valid = "Số phiếu hợp lệ: %d; số phiếu không hợp lệ: %d.",
    .spoiled = "Số phiếu hỏng đã được đổi: %d.",
    .pending = "Còn %d phiếu chờ Ban kiểm phiếu quyết định.",
    .board_read = "Trong đó có %d phiếu máy không đọc được, do Ban kiểm phiếu đọc trực tiếp trên "
                  "phiếu giấy và kiểm đếm.",
    .difference = "CHÊNH LỆCH: Ban kiểm phiếu đếm %d phiếu thu vào, chương trình đã đọc %d "
                  "tờ phiếu; phải tìm và quét đủ phiếu hoặc sửa lại số phiếu thu vào.",
    .results_intro = "Kết quả cụ thể như sau (mỗi ô ghi số phiếu và tỷ lệ phần trăm so với "
                     "%s):",
    .col_number = "STT",
    .col_name = "Họ và tên",
    .col_post = "Chức vụ",
    .col_valid = "Số phiếu hợp lệ",
    .col_level = "%s",
    .col_pending = "(chờ: %d)",
    .consequences_intro = "Căn cứ kết quả trên:",
    .person_band = "Ông (bà) %s, %s, có %d phiếu %s, bằng %s %s.",
    .base_collected = "tổng số phiếu thu vào",
    .base_delegates = "tổng số đại biểu Hội đồng nhân dân",
    .exceptions = "Số trường hợp phiếu có dấu đánh chưa rõ hoặc trang phiếu chưa đọc được, "
                  "đã được Ban kiểm phiếu xem xét và quyết định: %d.",
    .complaints = "Khiếu nại, tố cáo: ..............................................."
                  "...............",
    .copies = "Biên bản được lập thành ........ bản, có giá trị như nhau, kèm theo Phụ lục "
              "thông tin kiểm tra.",
    .closed = "Biên bản kết thúc vào hồi %s giờ %s phút cùng ngày.",
    .closed_blank = "........",
    .sign_for = "TM. BAN KIỂM PHIẾU",
    .sign_head = "TRƯỞNG BAN",
    .sign_secretary = "THƯ KÝ",
    .sign_member = "ỦY VIÊN",
    .sign_hint = "(Ký, ghi rõ họ tên)",
    .draft_mark = "BẢN NHÁP / DRAFT",
    .draft_line = "BẢN NHÁP / DRAFT — chưa phải kết quả chính thức",
    .draft_difference = "Chênh lệch: %s: thu vào %d, đã đọc %d",
    .test_session = "PHIÊN THỬ — không có giá trị pháp lý",
    .appendix_title = "PHỤ LỤC: THÔNG TIN KIỂM TRA",
    .appendix_intro = "Phụ lục này giúp bất kỳ ai kiểm tra lại kết quả từ thư mục kết quả đã "
                      "công bố (phiếu đã quét, bản ghi từng phiếu, các quyết định của Ban). "
                      "Không cần đọc khi công bố kết quả.",
    .fingerprint = "Dấu vân tay bằng chứng (SHA-256 của manifest.json): %s",
    .public_key = "Khóa công khai (Ed25519) của Ban kiểm phiếu: %s",
    .unsigned_ = "Bản này không có chữ ký số của Ban kiểm phiếu.",
    .rules = "Căn cứ: %s; tỷ lệ phần trăm tính trên %s, làm tròn hai chữ số thập phân.",
    .form_line = "Mẫu phiếu \"%s\" (tệp forms/%s.form), dấu vân tay %s.",
    .thresholds = "Ngưỡng đọc phiếu: ô được coi là đã đánh dấu khi điểm ≥ %s; ô có điểm từ %s "
                  "đến dưới %s do Ban kiểm phiếu quyết định; mực tính từ độ đậm ≥ %s.",
    .exceptions_detail = "Trường hợp máy không tự quyết định: %d; Ban đã quyết định %d; còn "
                         "chờ %d.",
    .overrides_title = "Các quyết định thay thế của Trưởng ban:",
    .override_line = "%zu. Trường hợp %lld (%s, %s): %s thay thế các quyết định %s lúc %s. "
                     "Lý do: %s",
    .override_row = "dòng %d",
    .override_page = "cả tờ phiếu",
    .program = "Chương trình: phieu %s.",
    .how_to_verify = "Cách kiểm tra: chép thư mục kết quả và tệp khóa công khai của Ban, rồi "
                     "chạy\n    phieu verify THƯ_MỤC --pubkey TỆP_KHÓA.pub\nChương trình đọc "
                     "lại mọi phiếu đã quét, tính lại mọi con số và in OK, hoặc từng sai lệch. "
                     "So khóa công khai nó dùng với khóa in ở trên.",
    .page_footer = "Dấu vân tay bằng chứng: %s",
    .page_count = "Trang %d/%d",
};

static const minutes_kind_texts rating_vi = {
    .subject = "Kết quả lấy phiếu tín nhiệm đối với người giữ chức vụ do %s bầu",
    .low_words = "đánh giá “tín nhiệm thấp”",
    .none = "Không có người nào có quá nửa tổng số phiếu đánh giá “tín nhiệm thấp”.",
};

static const minutes_kind_texts confidence_vi = {
    .subject = "Kết quả bỏ phiếu tín nhiệm đối với người giữ chức vụ do %s bầu",
    .low_words = "“không tín nhiệm”",
    .none = "Không có người nào có quá nửa tổng số phiếu “không tín nhiệm”.",
};

const minutes_texts *minutes_texts_get(void)
{
    return &texts_vi;
}

const minutes_kind_texts *minutes_kind_texts_get(phieu_form_kind kind)
{
    return kind == PHIEU_FORM_CONFIDENCE ? &confidence_vi : &rating_vi;
}

const char *minutes_band_sentence(int band)
{
    switch (band) {
    case PHIEU_BAND_MAY_RESIGN_OR_VOTE:
        return "Người được lấy phiếu tín nhiệm có thể xin từ chức; nếu không xin từ chức, "
               "Hội đồng nhân dân sẽ bỏ phiếu tín nhiệm đối với người đó.";
    case PHIEU_BAND_MAY_RESIGN:
        return "Người được lấy phiếu tín nhiệm có thể xin từ chức.";
    case PHIEU_BAND_DISMISSAL:
        return "Cơ quan hoặc người có thẩm quyền giới thiệu người đó để Hội đồng nhân dân bầu "
               "phải trình Hội đồng nhân dân miễn nhiệm người đó.";
    case PHIEU_BAND_VOTE_OF_CONFIDENCE:
        return "Cơ quan có thẩm quyền phải trình Hội đồng nhân dân bỏ phiếu tín nhiệm đối với "
               "người đó.";
    default:
        return "";
    }
}
