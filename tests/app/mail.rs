//! The outbox and its worker against a real SMTP server (maildev): a mail exists only if its
//! transaction committed, is sent once however many instances run, and survives the SMTP server
//! being down.

use crate::helpers::{Maildev, TestApp, eventually, fixed_free_ports, unique_email};
use std::time::{Duration, Instant};
use storefront::{Email, Mail, MailKind, Money, OrderReceipt, ReceiptLine, enqueue, order_receipt};

fn receipt(order_id: i64, to: &str) -> Mail {
    order_receipt(OrderReceipt {
        order_id,
        to: Email::parse(to).expect("address"),
        lines: vec![ReceiptLine {
            name: "Mug <large>".into(),
            quantity: 2,
            unit_amount: Money::new(950, "usd"),
            line_total: Money::new(1900, "usd"),
        }],
        charges: Vec::new(),
        total: Money::new(1900, "usd"),
        ship_to: Vec::new(),
        order_url: format!("http://127.0.0.1:3000/orders/{order_id}"),
        dashboard_url: "http://127.0.0.1:3000/dashboard".into(),
        stripe_receipt_url: None,
    })
}

fn note(key: &str, to: &str, subject: &str) -> Mail {
    Mail {
        kind: MailKind::Welcome,
        dedupe_key: key.to_owned(),
        to: Email::parse(to).expect("address"),
        subject: subject.to_owned(),
        text: format!("{subject} (text)"),
        html: format!("<p>{subject} (html)</p>"),
    }
}

/// Enqueues `mails` in one transaction and commits; returns which were added.
async fn commit(app: &TestApp, mails: &[Mail]) -> Vec<bool> {
    let mut tx = app.state.db.pool.begin().await.expect("begin");
    let mut added = Vec::new();
    for mail in mails {
        added.push(enqueue(&mut tx, mail).await.expect("enqueue"));
    }
    tx.commit().await.expect("commit");
    added
}

async fn unsent(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
        .await
}

#[tokio::test]
async fn a_committed_mail_arrives_once_with_both_parts_and_a_rolled_back_one_never() {
    let app = TestApp::builder().mail().start().await;
    let buyer = unique_email("receipt");
    let ghost = unique_email("rolled-back");

    let mut rolled_back = app.state.db.pool.begin().await.expect("begin");
    assert!(
        enqueue(&mut rolled_back, &receipt(7, &ghost))
            .await
            .expect("enqueue")
    );
    rolled_back.rollback().await.expect("rollback");

    // The second enqueue of the same occasion, in the same transaction or a later one, adds nothing.
    assert_eq!(
        commit(&app, &[receipt(42, &buyer), receipt(42, &buyer)]).await,
        [true, false]
    );
    assert_eq!(commit(&app, &[receipt(42, &buyer)]).await, [false]);

    let mails = app.exactly_mails_to(&buyer, 1).await;
    let mail = &mails[0];
    assert_eq!(mail.subject, "Your receipt for order #42");
    assert_eq!(mail.from, "storefront <no-reply@localhost>");
    assert_eq!(mail.to, std::slice::from_ref(&buyer));
    assert!(
        mail.text.contains("2 x Mug <large>: $19 ($9.50 each)"),
        "{}",
        mail.text
    );
    assert!(mail.html.contains("Mug &lt;large&gt;"), "{}", mail.html);
    assert!(
        mail.html
            .contains("href=\"http://127.0.0.1:3000/orders/42\"")
    );
    assert!(
        mail.message_id.ends_with("@localhost>"),
        "{}",
        mail.message_id
    );
    assert!(
        app.mails_to(&ghost).await.is_empty(),
        "a rolled-back mail was sent"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NOT NULL AND attempts = 1 AND lease_until IS NULL")
            .await,
        1
    );
}

#[tokio::test]
async fn two_instances_on_one_outbox_send_every_mail_exactly_once() {
    const MAILS: usize = 20;
    let app = TestApp::builder().mail().start().await;
    let other = app.another_instance().await;
    let to = unique_email("shared-outbox");
    let mails: Vec<Mail> = (0..MAILS)
        .map(|i| note(&format!("test:{i}"), &to, &format!("Mail {i:02}")))
        .collect();
    assert!(commit(&app, &mails).await.into_iter().all(|added| added));

    let received = app.exactly_mails_to(&to, MAILS).await;
    let mut subjects: Vec<String> = received.into_iter().map(|m| m.subject).collect();
    subjects.sort();
    let expected: Vec<String> = (0..MAILS).map(|i| format!("Mail {i:02}")).collect();
    assert_eq!(subjects, expected);
    // Every row claimed once: a second claim would have counted a second attempt.
    assert_eq!(unsent(&other).await, 0);
    assert_eq!(
        app.count("SELECT CAST(COALESCE(SUM(attempts), 0) AS BIGINT) FROM outbox")
            .await,
        MAILS as i64
    );
}

/// The SMTP server is down while mails are queued: they stay unsent, with attempts and the error
/// recorded; once it is back on the same port, each arrives exactly once, within a bounded time.
#[tokio::test]
async fn mails_survive_an_smtp_outage_and_arrive_once_when_it_ends() {
    const MAILS: usize = 10;
    // Below the ephemeral range: while the server is down, no other test can be given its port.
    let [smtp_port, web_port] = fixed_free_ports();
    let mut smtp = Maildev::start(smtp_port, web_port);
    let app = TestApp::builder()
        .mail()
        .env(&[("SMTP_URL", smtp.smtp_url().as_str())])
        .start()
        .await;
    smtp.stop();
    let to = unique_email("outage");
    let mails: Vec<Mail> = (0..MAILS)
        .map(|i| note(&format!("outage:{i}"), &to, &format!("Outage {i}")))
        .collect();
    let queued = Instant::now();
    commit(&app, &mails).await;

    eventually(Duration::from_secs(20), "every mail was tried three times", || async {
        app.count("SELECT COUNT(*) FROM outbox WHERE attempts >= 3 AND last_error IS NOT NULL AND sent_at IS NULL")
            .await
            == MAILS as i64
    })
    .await;
    let down_for = queued.elapsed();
    let attempts_while_down = app
        .count("SELECT CAST(SUM(attempts) AS BIGINT) FROM outbox")
        .await;
    assert_eq!(
        unsent(&app).await,
        MAILS as i64,
        "nothing is lost or marked sent"
    );

    let restarted = Instant::now();
    let smtp = tokio::task::spawn_blocking(move || Maildev::start(smtp_port, web_port))
        .await
        .expect("maildev restarts");
    let listening_after = restarted.elapsed();
    eventually(
        Duration::from_secs(30),
        "the queued mails arrive",
        || async { smtp.mails_to(&to).await.len() >= MAILS },
    )
    .await;
    let delivered_after = restarted.elapsed();
    smtp.exactly(&to, MAILS, Duration::from_secs(1)).await;
    assert_eq!(unsent(&app).await, 0);
    let attempts_total = app
        .count("SELECT CAST(SUM(attempts) AS BIGINT) FROM outbox")
        .await;
    let max_attempts = app.count("SELECT MAX(attempts) FROM outbox").await;
    // The numbers the change's report quotes (visible with --nocapture).
    println!(
        "SMTP outage: {MAILS} mails; down {down_for:.1?}, {attempts_while_down} failed attempts; \
         server listening {listening_after:.1?} after its restart began, all delivered (each once) \
         {delivered_after:.1?} after it; {attempts_total} attempts in all, at most {max_attempts} \
         for one mail"
    );
}
