//! Print and export for the file, in headless Chromium: a patient's page printed (print media
//! emulated at an A4 page's width) shows the patient, the treatment, the charts and every daily
//! figure, without the top bar, the buttons or a table cut by its scroller; and a protocol's daily
//! figures download as the CSV that the API's recovery view holds.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::browser::*;
use crate::helpers::*;

const EMAIL: &str = "dr.okoye@lakeside.example";
/// An A4 page's width less the print stylesheet's margins (210 - 24 mm), in CSS pixels.
const A4_CONTENT_WIDTH: u64 = 703;

#[tokio::test]
async fn a_patients_recovery_record_prints_on_a4_without_the_screens_controls() {
    let app = spawn_app().await;
    let seed = seed(&app).await;
    in_browser(1366, 900, |b| print_walk(app, seed, b)).await;
}

#[tokio::test]
async fn a_protocols_daily_figures_download_as_the_csv_of_its_recovery_view() {
    let app = spawn_app().await;
    let seed = seed(&app).await;
    in_browser(1366, 900, |b| csv_walk(app, seed, b)).await;
}

/// What the browser is shown: a clinic in UTC, the protocol "Face 1.0 mm" with 21 treatments
/// performed five days ago and checked in on days 0-4 (enough for the cohort's figures), the last
/// of them Alex Morgan's, whose redness stays severe.
struct Seed {
    clinician: String,
    protocol: String,
    patient: String,
}

async fn seed(app: &TestApp) -> Seed {
    let clinic = app.clinic("Lakeside Skin Clinic", "UTC").await;
    let clinician = app
        .staff_member(&clinic.admin, EMAIL, "clinician", "Dr. Okoye")
        .await;
    let protocol = app.protocol(&clinician, "Face 1.0 mm").await;
    let midnight = Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let performed_at = midnight - chrono::Duration::days(5) + chrono::Duration::hours(1);
    let mut patient = String::new();
    for i in 0..21_i64 {
        let name = (i == 20).then_some("Alex Morgan");
        let body = json!({"external_ref": format!("LS-{:04}", 100 + i), "display_name": name,
                          "fitzpatrick_type": 2, "concerns": ["acne_scars"]});
        patient = id_of(app.post("/v1/patients", &clinician, body).await.ok(201));
        let treatment = app
            .treatment(&clinician, &patient, &protocol, performed_at)
            .await;
        let (token, _) = app.enroll(&clinician, &patient).await;
        let check_ins: Vec<CheckIn> = (0..5_i64)
            .map(|day| {
                let (redness, swelling) = if name.is_some() {
                    (3, 1)
                } else {
                    ((1 + i % 3 - day).max(0), (i % 3 - day).max(0))
                };
                let at = performed_at + chrono::Duration::days(day) + chrono::Duration::minutes(30);
                CheckIn::new(
                    &treatment,
                    at,
                    json!({"redness": redness, "swelling": swelling, "infection": 0}),
                )
            })
            .collect();
        for result in app.check_in_batch(&token, &check_ins).await.ok(200)["results"]
            .as_array()
            .unwrap()
        {
            assert_eq!(result["status"], 201, "{result}");
        }
    }
    Seed {
        clinician,
        protocol,
        patient,
    }
}

async fn sign_in_at(app: &TestApp, b: &Browser, hash: &str) {
    b.goto(&format!("{}/dashboard#{hash}", app.base)).await;
    b.type_into("[data-testid=login-email]", EMAIL).await;
    b.type_into("[data-testid=login-password]", PASSWORD).await;
    b.click("[data-testid=login-submit]").await;
}

/// Emulates print media (`media` "print"), or the screen again (`media` "").
async fn emulate_media(b: &Browser, media: &str) {
    let body = json!({"cmd": "Emulation.setEmulatedMedia", "params": {"media": media}});
    b.call(reqwest::Method::POST, "/goog/cdp/execute", Some(body))
        .await;
}

async fn print_walk(app: TestApp, seed: Seed, b: Arc<Browser>) {
    let axe = axe_source();
    sign_in_at(&app, &b, &format!("/patients/{}", seed.patient)).await;
    b.until(
        "the patient's redness chart with the cohort's band, and its daily figures",
        "return !!document.querySelector('[data-testid=chart-redness] [data-testid=cohort-band]')
             && !!document.querySelector('[data-testid=chart-redness] [data-testid=daily-figures] table')",
    )
    .await;

    // On screen: the daily figures fold away, and the Print button prints.
    let screen = b
        .script(
            "const details = [...document.querySelectorAll('[data-testid=daily-figures]')];
             return {folded: details.every((d) => !d.open && !d.querySelector('table').checkVisibility()),
                     count: details.length,
                     print: document.querySelector('[data-testid=print-patient]').checkVisibility()};",
            json!([]),
        )
        .await;
    assert_eq!(screen["folded"], true, "{screen}");
    assert_eq!(screen["count"], 2, "redness and swelling: {screen}");
    assert_eq!(screen["print"], true, "{screen}");
    b.script(
        "window.printed = 0; window.print = () => { window.printed += 1; };",
        json!([]),
    )
    .await;
    b.click("[data-testid=print-patient]").await;
    assert_eq!(b.script("return window.printed", json!([])).await, 1);

    // Opened on screen, the figures are the treatment's days with their dates, and pass axe-core.
    b.script(
        "document.querySelectorAll('[data-testid=daily-figures]').forEach((d) => { d.open = true; });",
        json!([]),
    )
    .await;
    let rows = b
        .script(
            "return [...document.querySelectorAll('[data-testid=chart-redness] [data-testid=daily-figures] tbody tr')]
               .map((tr) => [...tr.cells].map((td) => td.textContent));",
            json!([]),
        )
        .await;
    let recovery = api_get(
        &app,
        &format!("/v1/patients/{}/recovery", seed.patient),
        &seed.clinician,
    )
    .await;
    let treatment = &recovery["treatments"][0];
    let performed_at: DateTime<Utc> = treatment["performed_at"].as_str().unwrap().parse().unwrap();
    let redness = treatment["symptoms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "redness")
        .unwrap();
    let days = redness["days"].as_array().unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), days.len(), "{rows:?}");
    // Each day's date in the clinic's zone (UTC here), as the browser writes a medium date.
    let dates: Vec<String> = days
        .iter()
        .map(|d| {
            let n = d["day"].as_i64().unwrap();
            (performed_at + chrono::Duration::days(n))
                .date_naive()
                .to_string()
        })
        .collect();
    let dates = b
        .script(
            "return arguments[0].map((d) => new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeZone: 'UTC' })
               .format(new Date(`${d}T00:00:00Z`)));",
            json!([dates]),
        )
        .await;
    for ((row, day), date) in rows.iter().zip(days).zip(dates.as_array().unwrap()) {
        assert_eq!(row[0], day["day"].to_string(), "{row}");
        assert_eq!(row[1], *date, "{row}");
        assert!(
            row[2]
                .as_str()
                .unwrap()
                .ends_with(&format!("({})", day["score"])),
            "{row} for {day}"
        );
    }
    b.assert_accessible(
        axe.as_deref(),
        "the patient's page with its daily figures open",
    )
    .await;

    // The same, folded again, fires the print events: printing opens them, and closes them after.
    let events = b
        .script(
            "const details = [...document.querySelectorAll('[data-testid=daily-figures]')];
             details.forEach((d) => { d.open = false; });
             details[0].open = true;
             window.dispatchEvent(new Event('beforeprint'));
             const during = details.map((d) => d.open);
             window.dispatchEvent(new Event('afterprint'));
             const after = details.map((d) => d.open);
             details[0].open = false;
             return {during, after};",
            json!([]),
        )
        .await;
    assert_eq!(
        events,
        json!({"during": [true, true], "after": [true, false]})
    );

    // Printed, at the width of an A4 page's content: the record without the screen's controls.
    b.resize_to(A4_CONTENT_WIDTH, 1000).await;
    emulate_media(&b, "print").await;
    let printed = b
        .until(
            "print media",
            "if (!matchMedia('print').matches) return null;
             const none = (el) => getComputedStyle(el).display === 'none';
             const shown = (el) => el.checkVisibility() && el.getBoundingClientRect().height > 0;
             const all = (css) => [...document.querySelectorAll(css)];
             const page = all('link[rel=stylesheet]').flatMap((l) => [...l.sheet.cssRules])
               .filter((r) => r instanceof CSSMediaRule && r.media.mediaText === 'print')
               .flatMap((r) => [...r.cssRules]).find((r) => r instanceof CSSPageRule);
             const link = document.querySelector('[data-testid=treatment-summary] a');
             return {
               page: page ? page.style.size : null,
               topbar: none(document.querySelector('.topbar')),
               navs: all('nav').map(none),
               controls: all('button, .button, form').filter((el) => el.checkVisibility()).map((el) => el.outerHTML.slice(0, 80)),
               print: none(document.querySelector('[data-testid=print-patient]')),
               toast: none(document.getElementById('toast')),
               name: shown(document.querySelector('[data-testid=patient-name]')),
               summary: shown(document.querySelector('[data-testid=treatment-summary]')),
               record: shown(document.querySelector('[data-testid=treatment-record]')),
               charts: all('svg.chart').map(shown),
               unbroken: all('.chart-card').map((c) => getComputedStyle(c).breakInside),
               tables: all('[data-testid=daily-figures]').map((d) => ({open: d.open, shown: shown(d.querySelector('table')),
                 rows: [...d.querySelectorAll('tbody tr')].filter(shown).length})),
               clipped: all('.table-wrap').filter((w) => w.scrollWidth > w.clientWidth || getComputedStyle(w).overflowX !== 'visible').length,
               wraps: all('.table-wrap').length,
               wide: document.documentElement.scrollWidth,
               ink: getComputedStyle(document.body).color,
               paper: getComputedStyle(document.body).backgroundColor,
               link: link ? [getComputedStyle(link).color, getComputedStyle(link).textDecorationLine] : null,
             };",
        )
        .await;
    assert!(
        printed["page"]
            .as_str()
            .is_some_and(|s| s.eq_ignore_ascii_case("A4")),
        "{printed:#}"
    );
    assert_eq!(printed["topbar"], true, "{printed:#}");
    assert!(
        printed["navs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n == true),
        "{printed:#}"
    );
    assert_eq!(printed["controls"], json!([]), "{printed:#}");
    assert_eq!(printed["print"], true, "{printed:#}");
    assert_eq!(printed["toast"], true, "{printed:#}");
    for part in ["name", "summary", "record"] {
        assert_eq!(printed[part], true, "{part}: {printed:#}");
    }
    let charts = printed["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 2, "{printed:#}");
    assert!(charts.iter().all(|c| c == true), "{printed:#}");
    assert!(
        printed["unbroken"]
            .as_array()
            .unwrap()
            .iter()
            .all(|b| b == "avoid"),
        "{printed:#}"
    );
    let tables = printed["tables"].as_array().unwrap();
    assert_eq!(tables.len(), 2, "{printed:#}");
    for t in tables {
        // Folded on screen, yet shown whole in print (the stylesheet opens them, no event needed).
        assert_eq!(t["open"], false, "{printed:#}");
        assert_eq!(t["shown"], true, "{printed:#}");
        assert_eq!(t["rows"], days.len(), "{printed:#}");
    }
    assert_eq!(printed["wraps"], 2, "{printed:#}");
    assert_eq!(printed["clipped"], 0, "{printed:#}");
    assert!(
        printed["wide"].as_u64().unwrap() <= A4_CONTENT_WIDTH,
        "{printed:#}"
    );
    assert_eq!(printed["ink"], "rgb(0, 0, 0)", "{printed:#}");
    assert_eq!(printed["paper"], "rgb(255, 255, 255)", "{printed:#}");
    assert_eq!(
        printed["link"],
        json!(["rgb(0, 0, 0)", "none"]),
        "{printed:#}"
    );
    if let Ok(dir) = std::env::var("DASHBOARD_SCREENSHOTS") {
        b.screenshot(&format!("{dir}/print-patient.png")).await;
    }
    // Chromium's own print, to PDF: A4 pages (595 x 842 points), as the stylesheet asks.
    let body = json!({"cmd": "Page.printToPDF", "params": {"preferCSSPageSize": true}});
    let pdf = b
        .call(reqwest::Method::POST, "/goog/cdp/execute", Some(body))
        .await;
    let pdf = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD
            .decode(pdf["data"].as_str().expect("a PDF"))
            .expect("base64")
    };
    if let Ok(dir) = std::env::var("DASHBOARD_SCREENSHOTS") {
        std::fs::write(format!("{dir}/print-patient.pdf"), &pdf).expect("write the PDF");
    }
    // Chromium writes each page's size as text: 210 x 297 mm are 595 x 842 points.
    let pdf = String::from_utf8_lossy(&pdf);
    let boxes: Vec<&str> = pdf
        .match_indices("/MediaBox [")
        .map(|(i, _)| pdf[i..].split(']').next().unwrap())
        .collect();
    assert!(boxes.len() >= 2, "the record on pages: {boxes:?}");
    for b in &boxes {
        let numbers: Vec<f64> = b["/MediaBox [".len()..]
            .split_whitespace()
            .map(|n| n.parse().unwrap())
            .collect();
        assert!(
            (numbers[2] - 595.28).abs() < 1.0 && (numbers[3] - 841.89).abs() < 1.0,
            "{boxes:?}"
        );
    }

    // Back on screen, the controls are back.
    emulate_media(&b, "").await;
    b.resize_to(1366, 900).await;
    b.until(
        "the Print button on screen again",
        "return !matchMedia('print').matches
             && document.querySelector('[data-testid=print-patient]').checkVisibility()
             && document.querySelector('.topbar').checkVisibility()",
    )
    .await;
    assert_quiet_console(&b, &[]).await;
    drop(app);
}

async fn csv_walk(app: TestApp, seed: Seed, b: Arc<Browser>) {
    sign_in_at(&app, &b, &format!("/protocols/{}", seed.protocol)).await;
    b.until(
        "the protocol's curves and its Download CSV button",
        "return !!document.querySelector('[data-testid=protocol-daily] [data-testid=cohort-median]')
             && !!document.querySelector('[data-testid=protocol-csv]')",
    )
    .await;

    // The button hands the browser a CSV file: what it holds and its name are caught on the way.
    b.script(
        "const make = URL.createObjectURL;
         URL.createObjectURL = (blob) => {
           window.csvType = blob.type;
           blob.text().then((text) => { window.csv = text; });
           return make.call(URL, blob);
         };
         HTMLAnchorElement.prototype.click = function () {
           window.downloaded = { name: this.download, blob: this.href.startsWith('blob:'), attached: this.isConnected };
         };",
        json!([]),
    )
    .await;
    b.click("[data-testid=protocol-csv]").await;
    let got = b
        .until(
            "the CSV",
            "return window.csv && window.downloaded ? {csv: window.csv, type: window.csvType, downloaded: window.downloaded} : null",
        )
        .await;
    assert_eq!(
        got["downloaded"],
        json!({"name": "protocol-face-1-0-mm-daily.csv", "blob": true, "attached": true})
    );
    assert!(
        got["type"].as_str().unwrap().starts_with("text/csv"),
        "{got}"
    );

    // One row per symptom and day, with every daily figure the API's view has, and no other.
    let csv = got["csv"].as_str().unwrap();
    assert!(csv.ends_with("\r\n"), "{csv:?}");
    let lines: Vec<Vec<&str>> = csv
        .trim_end_matches("\r\n")
        .split("\r\n")
        .map(|l| l.split(',').collect())
        .collect();
    let view = api_get(
        &app,
        &format!("/v1/protocols/{}/recovery", seed.protocol),
        &seed.clinician,
    )
    .await;
    let header = &lines[0];
    assert_eq!(header[..2], ["symptom", "day"], "{header:?}");
    let symptoms = view["symptoms"].as_array().unwrap();
    let figures: BTreeSet<&str> = symptoms[0]["days"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .filter(|k| *k != "day")
        .collect();
    assert_eq!(
        header[2..].iter().copied().collect::<BTreeSet<_>>(),
        figures,
        "{header:?}"
    );
    assert_eq!(header.len(), figures.len() + 2, "{header:?}");
    let expected_rows: usize = symptoms
        .iter()
        .map(|s| s["days"].as_array().unwrap().len())
        .sum();
    assert_eq!(lines.len(), expected_rows + 1);
    let mut rows = lines[1..].iter();
    for s in symptoms {
        for day in s["days"].as_array().unwrap() {
            let row = rows.next().unwrap();
            assert_eq!(row.len(), header.len(), "{row:?}");
            assert_eq!(row[0], s["code"], "{row:?}");
            assert_eq!(row[1], day["day"].to_string(), "{row:?}");
            for (column, cell) in header.iter().zip(row.iter()).skip(2) {
                let figure = &day[*column];
                if figure.is_null() {
                    assert_eq!(*cell, "", "{column} of {row:?}: {day}");
                } else {
                    let value: f64 = cell.parse().unwrap_or_else(|_| panic!("{row:?}"));
                    assert_eq!(Some(value), figure.as_f64(), "{column} of {row:?}: {day}");
                }
            }
        }
    }
    // The figures are real ones: redness on day 0 was reported by all 21 treatments.
    let redness_day_0 = lines
        .iter()
        .find(|l| l[0] == "redness" && l[1] == "0")
        .unwrap();
    let n = header.iter().position(|c| *c == "n").unwrap();
    assert_eq!(redness_day_0[n], "21", "{redness_day_0:?}");

    // The builder, called as a module: RFC 4180 quoting, empty for a missing figure, CRLF lines.
    b.script(
        "import('/dashboard/protocol.js').then((m) => {
           window.quoted = m.dailyFiguresCsv({ symptoms: [{ code: 'a,\"b\"', days: [{ day: 0, n: 2, note: 'two\\nlines', median: null }] }] });
           window.named = m.dailyFiguresFilename('Ëye / Lids 0.5 mm');
         });",
        json!([]),
    )
    .await;
    let built = b
        .until(
            "the module's CSV",
            "return window.quoted ? [window.quoted, window.named] : null",
        )
        .await;
    assert_eq!(
        built,
        json!([
            "symptom,day,n,note,median\r\n\"a,\"\"b\"\"\",0,2,\"two\nlines\",\r\n",
            "protocol-eye-lids-0-5-mm-daily.csv"
        ])
    );
    assert_quiet_console(&b, &[]).await;
    drop(app);
}
