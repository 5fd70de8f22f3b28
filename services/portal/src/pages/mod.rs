//! The server-rendered pages: templates, the page error type, and the
//! helpers every page module shares.
//!
//! Pages never hold business rules. They call the services' REST APIs with
//! the viewer's token and show what comes back; a 422 from a service is
//! shown next to the fields it names, in the service's own Chinese words.

pub mod applications;
pub mod construction;
pub mod dashboard;
pub mod drafts;
pub mod enterprise;
pub mod errors;
mod filing;
mod filters;
pub mod flows;
pub mod forms;
pub mod inbox;
pub mod licence;
pub mod licensing;
pub mod materials;
pub mod multipart;
mod prefill;
pub mod redirect;
pub mod review;
pub mod stage_map;
pub mod statistics;
pub mod values;
pub mod window;
pub mod window_hand_out;

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, ResponseError, get, web};
use minijinja::Environment;
use serde_json::{Map, Value, json};
use yizhan_auth::Role;

use crate::AppState;
use crate::session::{MaybeViewer, Viewer};
use crate::upstream::{Upstream, UpstreamError};

pub(crate) use filters::sla_name;
use filters::{days, local_time, plain, role_name, sla_class};
pub(crate) use forms::{
    act, entries, errors_at_marks, marked_list, refused_with, try_act, with_refused,
};
pub use forms::{field_errors, refused_form};
pub use redirect::local_path;
pub use values::{prefixed, typed_map, typed_value, value};

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("../../templates/", $name)))),*]
    };
}

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in templates![
        "base.html",
        "home.html",
        "login.html",
        "error.html",
        "macros.html",
        "lic_scenarios.html",
        "lic_questionnaire.html",
        "lic_notice.html",
        "lic_form.html",
        "lic_confirm.html",
        "lic_applications.html",
        "lic_application.html",
        "con_projects.html",
        "con_project_new.html",
        "con_project.html",
        "con_stage_form.html",
        "queue.html",
        "window_licensing.html",
        "window_stage.html",
        "window_hand_out.html",
        "review_task.html",
        "licence_print.html",
        "inbox.html",
        "statistics.html",
        "material_view.html",
    ]
    .into_iter()
    .chain(enterprise::TEMPLATES.iter().copied())
    .chain(flows::TEMPLATES.iter().copied())
    {
        // The templates are part of the binary and checked by the tests;
        // a broken one is a build defect, so fail loudly at first use.
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name}: {e:#}"));
    }
    env.add_filter("days", |v: minijinja::Value| -> String {
        days(f64::try_from(v).ok())
    });
    env.add_filter("sla_class", |v: Option<String>| -> String {
        sla_class(v.as_deref()).to_owned()
    });
    env.add_filter("sla_name", |v: Option<String>| -> String {
        sla_name(v.as_deref()).to_owned()
    });
    env.add_filter("local_time", |v: String| -> String { local_time(&v) });
    env.add_filter("plain", |v: minijinja::Value| -> String { plain(&v) });
    env.add_filter("role_name", |v: String| -> String {
        role_name(&v).to_owned()
    });
    env
});

/// Parses every template now, so a broken one stops start-up rather than
/// a page.
pub fn load_templates() {
    LazyLock::force(&ENV);
}

/// What went wrong with a page request, shown as a page.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in: go to the sign-in page, then back to this path.
    SignIn(String),
    /// Signed in, but not allowed.
    Forbidden(String),
    /// Nothing there (or not the viewer's to see).
    NotFound(String),
    /// A request the page cannot use.
    BadRequest(String),
    /// A service did not answer.
    Unavailable(String),
    /// A service refused (4xx other than 422 on a form).
    Refused(u16, String),
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SignIn(next) => write!(f, "请先登录（{next}）"),
            Self::Forbidden(m)
            | Self::NotFound(m)
            | Self::BadRequest(m)
            | Self::Unavailable(m)
            | Self::Refused(_, m) => f.write_str(m),
        }
    }
}

impl From<UpstreamError> for PageError {
    fn from(e: UpstreamError) -> Self {
        match &e {
            UpstreamError::Unavailable { detail, .. } => {
                Self::Unavailable(format!("{detail}，请稍后重试"))
            }
            UpstreamError::Refused { status: 401, .. } => Self::SignIn("/".into()),
            UpstreamError::Refused { status: 403, .. } => Self::Forbidden(e.message()),
            UpstreamError::Refused { status: 404, .. } => Self::NotFound(e.message()),
            UpstreamError::Refused { status, .. } => Self::Refused(*status, e.message()),
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn(_) => StatusCode::SEE_OTHER,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Refused(status, _) => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_REQUEST)
            }
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let Self::SignIn(next) = self {
            return HttpResponse::SeeOther()
                .insert_header((
                    header::LOCATION,
                    format!("/login?next={}", crate::queues::urlencode(next)),
                ))
                .finish();
        }
        let page = errors::ErrorPage {
            title: match self {
                Self::Forbidden(_) => "无权访问",
                Self::NotFound(_) => "未找到",
                Self::Unavailable(_) => "服务暂不可用",
                _ => "无法办理",
            },
            message: self.to_string(),
        };
        // Drawn without the viewer here; the pages' middleware draws it
        // again with the signed-in header.
        let mut response = errors::error_page(None, self.status_code(), &page);
        response.extensions_mut().insert(page);
        response
    }
}

/// An unreadable form body as a page, not a problem+json.
pub fn form_error(
    err: actix_web::error::UrlencodedError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    PageError::BadRequest(format!("表单内容无法读取：{err}")).into()
}

/// Whether `code` can be a catalog code (scenario, stage, department):
/// ASCII letters, digits, `_` and `-`, at most 64.
pub(crate) fn is_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 64
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// A catalog code as a path segment, or a 404 page.
pub fn code_path(code: &str, what: &str) -> Result<String, PageError> {
    if is_code(code) {
        Ok(code.to_owned())
    } else {
        Err(PageError::NotFound(format!("{what}不存在")))
    }
}

/// Whether the viewer works the window's queues, and a department's.
pub(crate) fn me_is(viewer: &Viewer) -> (bool, bool) {
    let p = &viewer.principal;
    (
        p.has_role(Role::WindowClerk) || p.has_role(Role::Admin),
        p.has_role(Role::DeptReviewer),
    )
}

/// The viewer as templates see it.
fn me(viewer: &Viewer) -> Value {
    let p = &viewer.principal;
    let (clerk, reviewer) = me_is(viewer);
    json!({
        "sub": p.sub,
        "name": p.name.clone().unwrap_or_else(|| p.sub.clone()),
        "role_names": p.roles.iter().map(|r| r.zh_name()).collect::<Vec<_>>().join("、"),
        "applicant": p.has_role(Role::Applicant) || p.has_role(Role::Agent),
        "clerk": clerk,
        "reviewer": reviewer,
        "specialist": p.has_role(Role::Specialist),
        "hotline": p.has_role(Role::HotlineOperator),
        "admin": p.has_role(Role::Admin),
        "dept": p.dept,
        "enterprise": viewer.enterprise(),
        "unread": viewer.unread,
    })
}

/// Renders `template` with `context` plus the viewer and CSRF token.
pub fn render(
    viewer: Option<&Viewer>,
    template: &str,
    context: Value,
) -> Result<HttpResponse, PageError> {
    render_status(viewer, template, context, StatusCode::OK)
}

/// As [`render`], with a status (422 for a form shown again with errors).
pub fn render_status(
    viewer: Option<&Viewer>,
    template: &str,
    mut context: Value,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    if let Some(map) = context.as_object_mut() {
        // A form page first drawn has nothing typed and no messages yet.
        for (key, empty) in [
            ("posted", json!({})),
            ("errors", json!({})),
            ("general", json!([])),
        ] {
            map.entry(key).or_insert(empty);
        }
        if let Some(viewer) = viewer {
            map.insert("me".into(), me(viewer));
            map.insert("csrf".into(), json!(viewer.csrf));
        }
    }
    let html = ENV
        .get_template(template)
        .and_then(|t| t.render(&context))
        .map_err(|e| {
            tracing::error!(template, error = %format!("{e:#}"), "template failed");
            PageError::Unavailable("页面生成失败，请稍后重试".into())
        })?;
    Ok(HttpResponse::build(status)
        .content_type(ContentType::html())
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(html))
}

/// Every message a redirect may carry. A flash shows only these, so a
/// crafted link (`?msg=请拨打…`) cannot put words on the portal's pages.
const MESSAGES: &[&str] = &[
    "申请已提交（已接件），请等待综合窗口受理",
    "补正材料已提交，审批恢复计时",
    "容缺材料已补交",
    "已受理，事项已分送各部门并联审批",
    "已容缺受理，事项已分送各部门；已告知申请人待补交材料",
    "已不予受理，一次性告知单已送达申请人",
    "已出件，办件完结",
    "项目已登记",
    "阶段申请已提交（已接件），请等待综合窗口受理",
    "已准予许可",
    "已作出不予许可决定",
    "已一次性告知申请人补正，计时暂停",
    "已启动特别程序，计时暂停",
    "特别程序已结束，恢复计时",
    "已标为已读",
];

/// Whether `message` is one the portal's redirects send.
fn is_message(message: &str) -> bool {
    MESSAGES.contains(&message)
        || enterprise::MESSAGES.contains(&message)
        || flows::MESSAGES.contains(&message)
        || message == licensing::DRAFT_SAVED
}

/// A redirect after a successful form post (post/redirect/get), with a
/// message (one of `MESSAGES`) for the next page.
pub fn see_other(location: &str, message: &'static str) -> HttpResponse {
    debug_assert!(is_message(message), "unlisted message {message}");
    let separator = if location.contains('?') { '&' } else { '?' };
    HttpResponse::SeeOther()
        .insert_header((
            header::LOCATION,
            format!(
                "{location}{separator}msg={}",
                crate::queues::urlencode(message)
            ),
        ))
        .finish()
}

/// The flash of a redirect's `?msg=`: shown only when it is one of ours.
pub fn flash_text(msg: Option<&str>) -> Option<String> {
    msg.filter(|m| is_message(m)).map(str::to_owned)
}

/// The flash message of a redirect (`?msg=`).
#[derive(Debug, Default, serde::Deserialize)]
pub struct Flash {
    msg: Option<String>,
}

impl Flash {
    /// The message, when it is one the portal sends.
    pub fn text(&self) -> Option<String> {
        flash_text(self.msg.as_deref())
    }
}

/// The service of a page path's `{source}` segment.
pub(crate) fn source_service(source: &str) -> Result<Upstream, PageError> {
    match source {
        "licensing" => Ok(Upstream::Licensing),
        "construction" => Ok(Upstream::Construction),
        _ => Err(PageError::NotFound("没有这种业务".into())),
    }
}

/// The 一单告知 notice of a scenario and answers (public, no token).
pub(crate) async fn notice_of(
    state: &AppState,
    scenario: &Value,
    answers: &Map<String, Value>,
) -> Result<Value, UpstreamError> {
    state
        .upstream
        .send(
            Upstream::Licensing,
            reqwest::Method::POST,
            "/api/v1/notices",
            None,
            &json!({"scenario": scenario, "answers": answers}),
        )
        .await
}

/// Page: home, by role; staff see their queues' counts.
#[get("/")]
pub async fn home(
    state: web::Data<AppState>,
    viewer: MaybeViewer,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    let counts = match &viewer.0 {
        Some(viewer) => dashboard::staff_counts(&state, viewer).await,
        None => json!({}),
    };
    render(
        viewer.0.as_ref(),
        "home.html",
        json!({"title": "首页", "flash": flash.text(), "counts": counts}),
    )
}

const CSS: &str = include_str!("../../static/portal.css");
const PRINT_JS: &str = include_str!("../../static/print.js");

/// The print button's script (the only script: every page works without
/// it).
#[get("/static/print.js")]
pub async fn print_script() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(PRINT_JS)
}

/// The stylesheet (compiled in; no build step, no download).
#[get("/static/portal.css")]
pub async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(CSS)
}

/// Passes a certificate file through (QR code, the licence PDF): the
/// viewer's token goes along, so only those the document service lets see
/// it do. The PDF downloads as `<identifier>.pdf`.
#[get("/certificates/{id}/{file}")]
pub async fn certificate_file(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (id, file) = path.into_inner();
    licence::certificate_path(&id)?;
    let suffix = match file.as_str() {
        "qr.png" => "qr.png",
        "qr.svg" => "qr.svg",
        "licence.pdf" => "pdf",
        _ => return Err(PageError::NotFound("没有这种证照文件".into())),
    };
    let (content_type, bytes) = state
        .upstream
        .fetch(
            Upstream::Document,
            &format!("/api/v1/certificates/{id}/{suffix}"),
            Some(&viewer.token),
        )
        .await?;
    let mut response = HttpResponse::Ok();
    response.content_type(content_type);
    if suffix == "pdf" {
        // The identifier was checked to be letters, digits and dots.
        response
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}.pdf\""),
            ))
            .insert_header((header::CACHE_CONTROL, "private, no-cache"));
    }
    Ok(response.body(bytes))
}

/// Mounts every page.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.map(|c| {
        c.service(
            web::scope("")
                .guard(actix_web::guard::fn_guard(errors::page_guard))
                .wrap(actix_web::middleware::from_fn(errors::signed_in_errors))
                .configure(pages)
                .default_service(web::to(errors::not_found)),
        )
    });
}

/// Every page, in the pages' scope.
fn pages(c: &mut web::ServiceConfig) {
    c.service(home)
        .service(stylesheet)
        .service(print_script)
        .service(licence::print_page)
        .service(licence::verify_page)
        .service(certificate_file)
        .service(crate::login::login_page)
        .service(crate::login::dev_login)
        .service(crate::login::logout)
        .service(crate::login::oidc_start)
        .service(crate::login::oidc_callback)
        .configure(licensing::configure)
        .configure(construction::configure)
        .configure(window::configure)
        .configure(window_hand_out::configure)
        .configure(review::configure)
        .configure(materials::configure)
        .configure(inbox::configure)
        .configure(statistics::configure)
        .configure(enterprise::configure)
        .configure(flows::configure);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_or_left_for_the_service_to_name() {
        assert_eq!(typed_value("integer", " 80 "), json!(80));
        assert_eq!(typed_value("integer", "很多"), json!("很多"));
        assert_eq!(typed_value("number", "1200.5"), json!(1200.5));
        assert_eq!(typed_value("boolean", "true"), json!(true));
        assert_eq!(typed_value("text", " 张三 "), json!("张三"));
    }

    #[test]
    fn values_print_as_people_write_them() {
        let v = minijinja::Value::from_serialize;
        assert_eq!(plain(&v(json!(500.0))), "500");
        assert_eq!(plain(&v(json!(2.5))), "2.5");
        assert_eq!(plain(&v(json!(80))), "80");
        assert_eq!(plain(&v(json!(true))), "是");
        assert_eq!(plain(&v(json!(null))), "");
        assert_eq!(plain(&v(json!("张三"))), "张三");
        assert_eq!(role_name("window_clerk"), "综合窗口人员");
        assert_eq!(role_name("system"), "系统");
    }

    #[test]
    fn finished_items_show_no_days_left() {
        let badge = |state: &str, left: f64| {
            ENV.render_str(
                "{% from 'macros.html' import sla %}{{ sla(state, left) }}",
                json!({"state": state, "left": left}),
            )
            .unwrap()
        };
        assert!(
            !badge("stopped", 5.5).contains('剩'),
            "{}",
            badge("stopped", 5.5)
        );
        assert!(badge("on_time", 5.5).contains("剩 5.5 个工作日"));
        assert!(badge("paused", 3.0).contains("剩 3 个工作日"));
        assert!(badge("overdue", -2.0).contains("超 2 个工作日"));
    }

    #[test]
    fn only_our_own_messages_are_flashed() {
        assert_eq!(
            flash_text(Some("已出件，办件完结")).as_deref(),
            Some("已出件，办件完结")
        );
        assert_eq!(flash_text(Some("系统升级，请拨打 400-xxx 缴费")), None);
        assert_eq!(flash_text(None), None);
    }

    #[test]
    fn every_template_renders_without_a_viewer() {
        for name in ["home.html", "login.html", "error.html"] {
            let html = ENV
                .get_template(name)
                .unwrap()
                .render(json!({"title": "t", "message": "<b>m</b>", "users": [], "next": "/"}))
                .unwrap();
            assert!(html.contains("<html lang=\"zh-CN\">"), "{name}");
            assert!(!html.contains("<b>m</b>"), "{name} escapes");
        }
    }
}
