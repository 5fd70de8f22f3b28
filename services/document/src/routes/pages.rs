//! Self-contained zh-CN HTML pages: the printable certificate and the public
//! verification page a scanned QR code opens. No external assets (fonts,
//! scripts, stylesheets), so a page prints and archives as one file.
//! Every value is HTML-escaped: holder names and scopes come from requests.
//! The licence PDF's sheet is worded here too, beside the page it mirrors.

use std::fmt::Write;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use crate::licence_pdf::Sheet;
use crate::routes::certificates::{Certificate, ValidityView};
use crate::routes::verify::Verification;

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn beijing(t: DateTime<Utc>) -> String {
    let offset = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    t.with_timezone(&offset)
        .format("%Y年%m月%d日 %H:%M")
        .to_string()
}

fn day(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

fn period(from: NaiveDate, until: Option<NaiveDate>) -> String {
    match until {
        Some(u) => format!("{} 至 {}", day(from), day(u)),
        None => format!("{} 起长期有效", day(from)),
    }
}

const STYLE: &str = r#"
  * { box-sizing: border-box; }
  body { margin: 0; background: #f3f1ea; color: #1d1d1d;
         font-family: "Songti SC", "SimSun", "Noto Serif CJK SC", "Source Han Serif SC", serif; }
  .sheet { width: 210mm; min-height: 297mm; margin: 12px auto; padding: 16mm 18mm;
           background: #fffdf6; border: 1px solid #d8cfb4; position: relative; }
  .frame { border: 3px double #a8201a; padding: 10mm 10mm 8mm; min-height: 260mm; }
  h1 { text-align: center; color: #a8201a; font-size: 30pt; letter-spacing: 0.4em; margin: 2mm 0 1mm; }
  .sub { text-align: center; font-size: 10pt; color: #555; margin-bottom: 7mm; word-break: break-all; }
  table.fields { width: 100%; border-collapse: collapse; font-size: 12pt; }
  table.fields th { width: 30mm; text-align: justify; text-align-last: justify; padding: 2.5mm 4mm 2.5mm 0;
                    vertical-align: top; font-weight: bold; white-space: nowrap; }
  table.fields td { padding: 2.5mm 0; vertical-align: top; }
  table.items { width: 100%; border-collapse: collapse; font-size: 10.5pt; margin-top: 1mm; }
  table.items th, table.items td { border: 1px solid #b9ad8c; padding: 1.5mm 2mm; text-align: left; }
  table.items th { background: #f1ead6; }
  .bottom { display: flex; justify-content: space-between; align-items: flex-end; margin-top: 8mm; }
  .qr { text-align: center; font-size: 9pt; color: #444; }
  .qr svg { width: 34mm; height: 34mm; display: block; margin: 0 auto 1mm; }
  .issuer { text-align: right; font-size: 12pt; line-height: 1.9; }
  .seal { display: inline-block; border: 2px solid #a8201a; color: #a8201a; border-radius: 50%;
          width: 34mm; height: 34mm; line-height: 1.3; padding-top: 11mm; text-align: center;
          font-size: 10pt; transform: rotate(-8deg); margin-bottom: 2mm; }
  .stamp { position: absolute; top: 70mm; left: 50%; transform: translateX(-50%) rotate(-18deg);
           border: 4px solid #c0392b; color: #c0392b; font-size: 38pt; padding: 2mm 10mm;
           opacity: 0.75; letter-spacing: 0.2em; background: rgba(255,255,255,0.3); }
  .sig { margin-top: 7mm; font-size: 7.5pt; color: #666; font-family: ui-monospace, Menlo, Consolas, monospace;
         word-break: break-all; line-height: 1.35; }
  .sig b { font-family: inherit; color: #333; }
  .note { font-size: 9pt; color: #555; margin-top: 3mm; line-height: 1.6; }
  .ok { color: #1e7b34; } .bad { color: #b3261e; } .warn { color: #9a6700; }
  .card { max-width: 640px; margin: 24px auto; background: #fff; border: 1px solid #ddd; padding: 20px 24px;
          font-family: -apple-system, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif; }
  .card h1 { font-size: 20pt; letter-spacing: 0.1em; }
  .verdict { font-size: 15pt; font-weight: bold; text-align: center; margin: 8px 0 16px; }
  .card table { width: 100%; border-collapse: collapse; font-size: 11pt; }
  .card th { text-align: left; width: 9em; color: #555; font-weight: normal; padding: 6px 0; vertical-align: top; }
  .card td { padding: 6px 0; word-break: break-all; }
  @page { size: A4; margin: 0; }
  @media print {
    body { background: #fff; }
    .sheet { margin: 0; border: none; width: auto; min-height: auto; }
  }
"#;

/// The printable certificate.
pub fn certificate(c: &Certificate, qr_svg: &str) -> String {
    let mut items = String::new();
    for (i, item) in c.items.iter().enumerate() {
        let _ = write!(
            items,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            i + 1,
            escape(&item.item_name),
            escape(&item.item_code),
            escape(&item.department),
            escape(&item.permit_number),
        );
    }
    let stamp = if c.status.code != "01" {
        format!(r#"<div class="stamp">已{}</div>"#, escape(&c.status.name))
    } else {
        String::new()
    };
    let status_line = match (&c.status_changed_at, &c.status_reason) {
        (Some(at), Some(reason)) => format!(
            "{}（{}，{}）",
            escape(&c.status.name),
            beijing(*at),
            escape(reason)
        ),
        _ => escape(&c.status.name),
    };
    let validity_note = validity_note(c.validity);
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{type_name} {id}</title>
<style>{STYLE}</style>
</head>
<body>
<div class="sheet">
{stamp}
<div class="frame">
  <h1>{type_name}</h1>
  <div class="sub">电子证照标识：{id}</div>
  <table class="fields">
    <tr><th>持证主体</th><td>{holder_name}</td></tr>
    <tr><th>统一社会信用代码</th><td>{holder_uscc}</td></tr>
    <tr><th>许可范围</th><td>{scope}</td></tr>
    <tr><th>有效期限</th><td>{period}{validity_note}</td></tr>
    <tr><th>证照状态</th><td>{status_line}（代码 {status_code}）</td></tr>
    <tr><th>许可事项</th><td>
      <table class="items">
        <tr><th>序号</th><th>事项名称</th><th>事项编码</th><th>审批部门</th><th>许可证号</th></tr>
        {items}
      </table>
    </td></tr>
  </table>
  <div class="bottom">
    <div class="qr">{qr_svg}扫码核验真伪与当前状态<br>{verify_url}</div>
    <div class="issuer">
      <div class="seal">电子签章<br>{issuer_name}</div><br>
      发证机构：{issuer_name}<br>
      机构代码：{issuer_uscc}<br>
      发证日期：{issued_at}
    </div>
  </div>
  <div class="sig"><b>电子签名（JWS，EdDSA/Ed25519，密钥 {kid}）：</b><br>{jws}</div>
  <div class="note">本证照由{issuer_name}以电子签名签发，与纸质证照具有同等效力。
    任何人可扫描二维码在线核验，或使用本中心公布的公钥集（/.well-known/jwks.json）离线验证上述签名；
    签名内记载签发时的状态，当前状态以在线核验结果为准。</div>
</div>
</div>
</body>
</html>
"#,
        type_name = escape(&c.type_name),
        id = escape(&c.id),
        holder_name = escape(&c.holder.name),
        holder_uscc = escape(&c.holder.uscc),
        scope = escape(&c.scope),
        period = period(c.valid_from, c.valid_until),
        status_code = escape(&c.status.code),
        verify_url = escape(&c.verify_url),
        issuer_name = escape(&c.issuer.name),
        issuer_uscc = escape(&c.issuer.uscc),
        issued_at = beijing(c.issued_at),
        kid = escape(&c.key_id),
        jws = escape(&c.jws),
    )
}

/// The licence as the PDF prints it: the same wording as [`certificate`].
pub fn licence_sheet(c: &Certificate, qr: (usize, Vec<bool>)) -> Sheet {
    let status = match (&c.status_changed_at, &c.status_reason) {
        (Some(at), Some(reason)) => format!("{}（{}，{}）", c.status.name, beijing(*at), reason),
        _ => c.status.name.clone(),
    };
    Sheet {
        title: c.type_name.clone(),
        identifier: c.id.clone(),
        fields: vec![
            ("持证主体".into(), c.holder.name.clone()),
            ("统一社会信用代码".into(), c.holder.uscc.clone()),
            ("许可范围".into(), c.scope.clone()),
            (
                "有效期限".into(),
                format!(
                    "{}{}",
                    period(c.valid_from, c.valid_until),
                    validity_note(c.validity)
                ),
            ),
            (
                "证照状态".into(),
                format!("{status}（代码 {}）", c.status.code),
            ),
        ],
        items: c
            .items
            .iter()
            .map(|i| {
                [
                    i.item_name.clone(),
                    i.item_code.clone(),
                    i.department.clone(),
                    i.permit_number.clone(),
                ]
            })
            .collect(),
        verify_url: c.verify_url.clone(),
        qr,
        issuer_name: c.issuer.name.clone(),
        issuer_lines: vec![
            format!("发证机构：{}", c.issuer.name),
            format!("机构代码：{}", c.issuer.uscc),
            format!("发证日期：{}", beijing(c.issued_at)),
        ],
        signature_heading: format!("电子签名（JWS，EdDSA/Ed25519，密钥 {}）：", c.key_id),
        jws: c.jws.clone(),
        note: format!(
            "本证照由{}以电子签名签发，与纸质证照具有同等效力。任何人可扫描二维码在线核验，\
             或使用本中心公布的公钥集（/.well-known/jwks.json）离线验证上述签名；\
             签名内记载签发时的状态，当前状态以在线核验结果为准。",
            c.issuer.name
        ),
        stamp: (c.status.code != "01").then(|| format!("已{}", c.status.name)),
    }
}

fn validity_note(v: ValidityView) -> &'static str {
    match v {
        ValidityView::Expired => "（已过期）",
        ValidityView::NotYet => "（尚未生效）",
        ValidityView::Within => "",
    }
}

fn yes_no(ok: bool, yes: &str, no: &str) -> String {
    if ok {
        format!(r#"<span class="ok">✔ {yes}</span>"#)
    } else {
        format!(r#"<span class="bad">✘ {no}</span>"#)
    }
}

/// The public verification page.
pub fn verification(v: &Verification) -> String {
    let class = if v.valid {
        "ok"
    } else if v.signature_valid && v.found {
        "warn"
    } else {
        "bad"
    };
    let mut rows = String::new();
    let mut row = |k: &str, val: String| {
        let _ = write!(rows, "<tr><th>{k}</th><td>{val}</td></tr>");
    };
    row(
        "电子证照标识",
        escape(v.identifier.as_deref().unwrap_or("—")),
    );
    row("标识校验位", yes_no(v.identifier_valid, "正确", "错误"));
    row(
        "电子签名",
        match &v.signature_problem {
            None => yes_no(true, "验证通过", ""),
            Some(p) => yes_no(false, "", &escape(&p.message)),
        },
    );
    if let Some(s) = &v.status {
        let at = v
            .status_changed_at
            .map(|t| format!("（{} 变更）", beijing(t)))
            .unwrap_or_default();
        row(
            "当前状态",
            format!("{}（代码 {}）{at}", escape(&s.name), escape(&s.code)),
        );
    }
    if let Some(c) = &v.certificate {
        row("证照名称", escape(&c.type_name));
        row(
            "持证主体",
            format!("{}（{}）", escape(&c.holder.name), escape(&c.holder.uscc)),
        );
        row("有效期限", period(c.valid_from, c.valid_until));
        row(
            "发证机构",
            format!("{}（{}）", escape(&c.issuer.name), escape(&c.issuer.uscc)),
        );
        row("发证日期", beijing(c.issued_at));
    }
    row("核验时间", beijing(v.checked_at));
    format!(
        r#"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>电子证照核验</title>
<style>{STYLE}</style>
</head>
<body>
<div class="card">
  <h1>电子证照核验</h1>
  <div class="verdict {class}">{verdict}</div>
  <table>{rows}</table>
  <p class="note">签名以本中心公布的公钥集（/.well-known/jwks.json）验证；当前状态以登记记录为准。</p>
</div>
</body>
</html>
"#,
        verdict = escape(&v.verdict),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape(r#"<script>"a"&'b'</script>"#),
            "&lt;script&gt;&quot;a&quot;&amp;&#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn times_print_in_beijing_time() {
        let t = DateTime::parse_from_rfc3339("2026-11-23T20:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(beijing(t), "2026年11月24日 04:30");
    }
}
