//! The layout against a fixed-width stand-in for the font.

use super::*;

/// Han characters one em, everything else half.
struct Fixed;

impl Measure for Fixed {
    fn width(&self, text: &str, size: f32) -> f32 {
        text.chars()
            .map(|c| if c.is_ascii() { 0.5 } else { 1.0 })
            .sum::<f32>()
            * size
    }
}

fn sheet(items: usize) -> Sheet {
    Sheet {
        title: "行业综合许可证".into(),
        identifier: "1.2.156.3005.2.HYZHXKZ.11350100MB01729372.000000017K2QF09XZM.001.D".into(),
        fields: vec![
            ("持证主体".into(), "福州一站酒店有限公司".into()),
            ("许可范围".into(), "住宿服务；餐饮服务；公共场所（旅店）".repeat(6)),
        ],
        items: (0..items)
            .map(|n| {
                [
                    format!("特种行业许可（旅馆业）{n}"),
                    "TZ-001".into(),
                    "公安局".into(),
                    format!("闽榕公特旅字第2026{n:03}号"),
                ]
            })
            .collect(),
        verify_url: "https://yizhan.example.gov.cn/verify?id=1.2.156.3005.2.HYZHXKZ.11350100MB01729372.000000017K2QF09XZM.001.D".into(),
        qr: (25, vec![true; 625]),
        issuer_name: "一站政务服务中心".into(),
        issuer_lines: vec!["发证机构：一站政务服务中心".into(), "发证日期：2026年11月23日".into()],
        signature_heading: "电子签名".into(),
        jws: "eyJhbGciOiJFZERTQSJ9.".repeat(60),
        note: "本证照由一站政务服务中心以电子签名签发，与纸质证照具有同等效力。".repeat(2),
        stamp: None,
    }
}

fn texts(pages: &[Page]) -> Vec<String> {
    pages
        .iter()
        .flat_map(|p| &p.ops)
        .filter_map(|op| match op {
            Op::Text { text, .. } => Some(text.clone()),
            _ => None,
        })
        .collect()
}

/// Nothing is drawn outside the frame's inside.
fn assert_inside(pages: &[Page]) {
    for page in pages {
        for op in &page.ops {
            let (x, y, w, h) = match op {
                Op::Text {
                    x, y, size, text, ..
                } => (*x, y - size, Fixed.width(text, *size), *size),
                Op::Qr { x, y, side, .. } => (*x, *y, *side, *side),
                Op::Circle { cx, cy, r, .. } => (cx - r, cy - r, 2.0 * r, 2.0 * r),
                Op::Link { x, y, w, h, .. } => (*x, *y, *w, *h),
                Op::Rect { .. } | Op::Stamp { .. } => continue,
            };
            assert!(
                x >= LEFT - 0.01 && x + w <= RIGHT + 0.01,
                "{op:?} leaves the frame sideways"
            );
            assert!(
                y >= TOP - 0.01 && y + h <= BOTTOM + 8.0,
                "{op:?} leaves the frame"
            );
        }
    }
}

#[test]
fn a_usual_licence_fits_one_page_with_every_item_and_the_identifier() {
    let sheet = sheet(3);
    let pages = layout(&sheet, &Fixed);
    assert_eq!(pages.len(), 1);
    assert_inside(&pages);
    let texts = texts(&pages);
    for item in &sheet.items {
        assert!(texts.contains(&item[0]), "{} missing", item[0]);
        assert!(texts.contains(&item[3]), "{} missing", item[3]);
    }
    assert!(texts.iter().any(|t| t.ends_with(&sheet.identifier)));
    assert!(texts.contains(&sheet.verify_url), "the link is on one line");
    assert!(
        pages[0]
            .ops
            .iter()
            .any(|op| matches!(op, Op::Qr { modules: 25, .. }))
    );
    assert!(
        pages[0]
            .ops
            .iter()
            .any(|op| matches!(op, Op::Link { url, .. } if *url == sheet.verify_url))
    );
}

#[test]
fn many_items_continue_on_further_pages_under_repeated_headings() {
    let pages = layout(&sheet(40), &Fixed);
    assert!(pages.len() >= 2, "{} pages", pages.len());
    assert_inside(&pages);
    let all = texts(&pages);
    for n in 0..40 {
        assert!(all.contains(&format!("闽榕公特旅字第2026{n:03}号")));
    }
    // Every page with rows has the headings above them.
    for page in &pages {
        let page = self::texts(std::slice::from_ref(page));
        if page.iter().any(|t| t.starts_with("闽榕公特旅字")) {
            assert!(page.iter().any(|t| t == "许可证号"), "{page:?}");
        }
    }
}

#[test]
fn long_values_wrap_inside_their_column() {
    let lines = wrap(
        &"住宿服务；".repeat(30),
        FIELD_SIZE,
        WIDTH - LABEL_WIDTH,
        &Fixed,
    );
    assert!(lines.len() > 1);
    for line in &lines {
        assert!(Fixed.width(line, FIELD_SIZE) <= WIDTH - LABEL_WIDTH);
    }
    assert_eq!(lines.concat(), "住宿服务；".repeat(30));
    assert_eq!(wrap("", 10.0, 100.0, &Fixed), vec![String::new()]);
    assert_eq!(wrap("ab cd", 10.0, 12.0, &Fixed), vec!["ab", "cd"]);
}

#[test]
fn a_suspended_licence_is_stamped_on_every_page() {
    let mut sheet = sheet(40);
    sheet.stamp = Some("已暂扣".into());
    let pages = layout(&sheet, &Fixed);
    for page in &pages {
        assert!(
            page.ops
                .iter()
                .any(|op| matches!(op, Op::Stamp { text, .. } if text == "已暂扣"))
        );
    }
}
