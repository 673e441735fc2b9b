//! Form fields that say what went wrong where (issue 21): the error of the last submission is tied to
//! its input (`aria-describedby`, `aria-invalid`), announced (`role="alert"`, which is an assertive
//! live region), and the first invalid input takes the focus (`autofocus`, so it works without
//! JavaScript). A form lists its messages with the field each belongs to; one without a field is shown
//! above the form and takes the focus itself.

use super::{GENERIC_FORM_MESSAGE, form_error_text};
use leptos::prelude::*;

/// A form's message and the input it is about (`None`: the form as a whole).
pub type FieldMessage = (&'static str, Option<&'static str>);

/// What a form shows after a failed submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub message: String,
    /// The input's `name`, when the message is about one.
    pub field: Option<&'static str>,
}

impl Feedback {
    /// The feedback of a server action's last result; messages not in `lists` (or the common
    /// ones) are shown as a generic sentence, never as sent (security review L9). A form whose
    /// server function raises another feature's messages too (the account page's password rules
    /// are sign-up's) names both lists.
    pub fn of(
        value: Option<Result<(), ServerFnError>>,
        lists: &[&'static [FieldMessage]],
    ) -> Option<Self> {
        let error = value.and_then(Result::err)?;
        let messages = || lists.iter().flat_map(|list| list.iter());
        let texts: Vec<&str> = messages().map(|(text, _)| *text).collect();
        let message = match error {
            ServerFnError::ServerError(message) => form_error_text(&message, &texts),
            _ => GENERIC_FORM_MESSAGE.to_owned(),
        };
        let field = messages()
            .find(|(text, _)| *text == message)
            .and_then(|(_, field)| *field);
        Some(Self { message, field })
    }

    fn is_about(&self, name: &str) -> bool {
        self.field == Some(name)
    }
}

/// The form-level message (one that names no field), above the form.
#[component]
pub fn FormFeedback(feedback: Option<Feedback>) -> impl IntoView {
    feedback.filter(|f| f.field.is_none()).map(|f| {
        // Focusable only from script (tabindex -1), so `autofocus` moves the focus to it.
        view! { <p class="notice error" role="alert" id="form-error" tabindex="-1" autofocus>{f.message}</p> }
    })
}

/// A labelled input with its hint and, after a failed submission about it, its error.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    autocomplete: &'static str,
    /// What the user typed before (kept across the error); never set for a secret.
    #[prop(default = None)]
    value: Option<String>,
    #[prop(default = None)] hint: Option<String>,
    #[prop(default = None)] feedback: Option<Feedback>,
    #[prop(default = true)] required: bool,
    /// Names the form when a page has several with a field of the same name (ids must be unique).
    #[prop(default = "")]
    form: &'static str,
) -> impl IntoView {
    let error = feedback.filter(|f| f.is_about(name)).map(|f| f.message);
    let input_id = if form.is_empty() {
        format!("field-{name}")
    } else {
        format!("field-{form}-{name}")
    };
    let error_id = format!("{input_id}-error");
    let hint_id = format!("{input_id}-hint");
    let described_by = [
        error.as_ref().map(|_| error_id.clone()),
        hint.as_ref().map(|_| hint_id.clone()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    let invalid = error.is_some();
    view! {
        <div class="field" class:invalid=invalid>
            <label for=input_id.clone()>{label}</label>
            <input
                id=input_id
                type=kind
                name=name
                autocomplete=autocomplete
                required=required
                value=value
                aria-invalid=invalid.then_some("true")
                aria-describedby=(!described_by.is_empty()).then_some(described_by)
                autofocus=invalid
            />
            {hint.map(|hint| view! { <small class="muted" id=hint_id>{hint}</small> })}
            {error.map(|message| view! { <p class="field-error" id=error_id role="alert">{message}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSAGES: &[FieldMessage] = &[
        (
            "Enter a valid e-mail address, like name@example.com.",
            Some("email"),
        ),
        ("Not found.", None),
    ];

    #[test]
    fn a_message_is_tied_to_the_field_it_is_listed_with() {
        let error = |m: &str| Some(Err(ServerFnError::ServerError(m.to_owned())));
        let email = Feedback::of(error(MESSAGES[0].0), &[MESSAGES]).expect("feedback");
        assert_eq!(email.field, Some("email"));
        let whole = Feedback::of(error("Not found."), &[MESSAGES]).expect("feedback");
        assert_eq!(whole.field, None);
        let crafted = Feedback::of(error("Call +1 555 0100"), &[MESSAGES]).expect("feedback");
        assert_eq!(crafted.message, GENERIC_FORM_MESSAGE);
        assert_eq!(crafted.field, None);
        assert_eq!(Feedback::of(Some(Ok(())), &[MESSAGES]), None);
    }
}
