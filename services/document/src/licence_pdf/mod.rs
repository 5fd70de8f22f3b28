//! The licence (电子证照) as a PDF file: the same sheet as the printable
//! page — fields, permits, QR code, seal, verification link, signature —
//! set in a Chinese font from the machine (see [`font`]), of which each
//! PDF embeds only the glyphs it uses.
//!
//! [`layout`] places everything (pure, tested without a font), [`render`]
//! draws it with krilla.

pub mod font;
pub mod layout;
pub mod render;

pub use font::{FontError, FontSource, LicenceFont};
pub use layout::Sheet;
pub use render::RenderError;

/// The PDF of a sheet, set in `font`. CPU-bound (subsetting the font):
/// call it off the async threads.
pub fn pdf(sheet: &Sheet, font: &LicenceFont) -> Result<Vec<u8>, RenderError> {
    let pages = layout::layout(sheet, font);
    render::render(
        &pages,
        font,
        &format!("{} {}", sheet.title, sheet.identifier),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Sheet {
        Sheet {
            title: "行业综合许可证".into(),
            identifier: "1.2.156.3005.2.HYZHXKZ.11350100MB01729372.000000017K2QF09XZM.001.D".into(),
            fields: vec![
                ("持证主体".into(), "福州一站酒店有限公司".into()),
                ("统一社会信用代码".into(), "91350100M000100Y43".into()),
                ("许可范围".into(), "住宿服务；餐饮服务；公共场所（旅店）".into()),
                ("有效期限".into(), "2026年01月01日 至 2099年12月31日".into()),
                ("证照状态".into(), "有效（代码 01）".into()),
            ],
            items: vec![
                ["食品经营许可".into(), "SP-JY-001".into(), "市场监督管理局".into(), "JY13501000000001".into()],
                ["特种行业许可（旅馆业）".into(), "TZ-001".into(), "公安局".into(), "闽榕公特旅字第2026001号".into()],
                ["公共场所卫生许可".into(), "WS-GG-001".into(), "卫生健康委员会".into(), "榕卫公字〔2026〕第0001号".into()],
            ],
            verify_url: "https://yizhan.example.gov.cn/verify?id=1.2.156.3005.2.HYZHXKZ.11350100MB01729372.000000017K2QF09XZM.001.D".into(),
            qr: crate::qr::modules("https://yizhan.example.gov.cn/verify?id=1.2.156.3005.2.HYZHXKZ.11350100MB01729372.000000017K2QF09XZM.001.D").unwrap(),
            issuer_name: "一站政务服务中心".into(),
            issuer_lines: vec![
                "发证机构：一站政务服务中心".into(),
                "机构代码：11350100MB01729372".into(),
                "发证日期：2026年11月23日 12:07".into(),
            ],
            signature_heading: "电子签名（JWS，EdDSA/Ed25519，密钥 Vv1B3hX1i1Y2rFQ3O3mMSuN0w8mW1C3iN2y4p0ZKf5Q）：".into(),
            jws: format!("eyJhbGciOiJFZERTQSIsImtpZCI6IlZ2MUIzaFgxaTFZMnJGUTNPM21NU3VOMHc4bVcxQzNpTjJ5NHAwWktmNVEiLCJ0eXAiOiJ5aXpoYW4tY2VydGlmaWNhdGUrandzIn0.{}.c2lnbmF0dXJl", "eyJpZCI6IjEuMi4xNTYuMzAwNS4yLkhZWkhYS1oiLCJob2xkZXIiOnsidXNjYyI6IjkxMzUwMTAwTTAwMDEwMFk0MyJ9fQ".repeat(12)),
            note: "本证照由一站政务服务中心以电子签名签发，与纸质证照具有同等效力。任何人可扫描二维码在线核验，或使用本中心公布的公钥集（/.well-known/jwks.json）离线验证上述签名；签名内记载签发时的状态，当前状态以在线核验结果为准。".into(),
            stamp: None,
        }
    }

    /// With the machine's CJK font: a PDF, a small one (the font is
    /// subset). `LICENCE_PDF_SAMPLE=<path>` also writes it there (and a
    /// stamped, multi-page one beside it) to look at.
    #[tokio::test]
    async fn a_licence_renders_to_a_small_pdf() {
        let source = FontSource::new(None);
        if source.locate().is_err() {
            eprintln!("SKIPPED: no CJK font (apt-get install fonts-noto-cjk)");
            return;
        }
        let font = source.get().await.unwrap();
        let mut sheet = sample();
        let bytes = pdf(&sheet, &font).unwrap();
        assert!(bytes.starts_with(b"%PDF-"));
        assert!(bytes.len() < 200 * 1024, "{} bytes", bytes.len());
        if let Ok(path) = std::env::var("LICENCE_PDF_SAMPLE") {
            std::fs::write(&path, &bytes).unwrap();
            sheet.stamp = Some("已暂扣".into());
            sheet.items = (0..12).flat_map(|_| sheet.items.clone()).collect();
            std::fs::write(format!("{path}.stamped.pdf"), pdf(&sheet, &font).unwrap()).unwrap();
        }
    }
}
