// Everything the app says, in English and German: chosen from the phone's language, switchable in
// the app and remembered on this phone. The default symptom items and the answer words are here
// too; a clinic's own items show the label the clinic gave them.

const KEY = 'aftercare.app.lang';
export const LANGUAGES = { en: 'English', de: 'Deutsch' };

const TEXT = {
  en: {
    app_name: 'Aftercare',
    skip: 'Skip to content',
    language: 'Language',
    loading: 'Loading…',
    nav: 'Main',
    nav_today: 'Today',
    nav_check_in: 'Check in',
    nav_recovery: 'My recovery',
    nav_care: 'Aftercare',
    enroll_title: 'Connect this phone',
    enroll_intro: 'Your clinic gives you a code or a QR code to scan. Scanning it opens this app and connects it by itself.',
    enroll_code: 'Code from your clinic',
    enroll_hint: 'For example K7QM-4XRT-9PWN. Capital letters, spaces and dashes don’t matter.',
    enroll_submit: 'Connect',
    enroll_working: 'Connecting…',
    enroll_refused: 'This code doesn’t work. It may have been used already or be out of date: ask your clinic for a new one.',
    offline_needed: 'You are offline. Connecting this phone needs the internet once.',
    today_title: 'Today',
    treatment_of: 'Your treatment: {name}, on {date}',
    day_n: 'Day {day} after your treatment',
    due_today: 'Your check-in for today is waiting.',
    done_today: 'Thank you, today’s check-in is done.',
    no_check_in_today: 'No check-in is planned for today.',
    check_in_now: 'Check in now',
    coming_days: 'Your next check-in days',
    no_coming_days: 'No more check-ins are planned. Contact your clinic if anything worries you.',
    no_treatment: 'Your clinic has not recorded a treatment for you yet.',
    outbox_title: 'Your check-ins on this phone',
    waiting: 'Waiting to send',
    sent: 'Sent',
    refused: 'Not accepted',
    waiting_note: 'Saved on this phone. It will be sent by itself when you are back online.',
    offline_banner: 'You are offline. You can still check in; it will be sent later.',
    check_in_title: 'Today’s check-in',
    check_in_intro: 'How is your skin today? Choose one answer for each: how it is at its worst today.',
    aftercare_questions: 'Your aftercare today',
    note: 'Anything else you want your clinic to know? (optional)',
    note_who_reads: 'Your clinic reads notes during working hours. For anything urgent, call the clinic.',
    submit: 'Send check-in',
    sending: 'Sending…',
    thanks: 'Thank you, your check-in was sent.',
    saved_offline: 'Saved on this phone: it will be sent when you are back online.',
    choose_all: 'Please answer every question about your skin.',
    contact_title: 'Please contact your clinic now',
    contact_body: 'What you told us can be a sign that needs a look soon. Please call your clinic today.',
    contact_call: 'Call {phone}',
    contact_no_phone: 'Please call your clinic on its usual number.',
    red_flag_waiting: 'Your answers are kept on this phone and will be sent to your clinic when the phone is back online. Until then your clinic doesn’t know: please call.',
    clinic_alerted: 'Your clinic has been alerted by your check-in of {date}.',
    seen: 'I have seen this',
    recovery_title: 'My recovery',
    recovery_intro: 'Your answers each day, over what most people reported after the same treatment.',
    recovery_none: 'Your chart shows here once you have checked in.',
    none_so_far: 'None at every check-in: {list}.',
    you: 'You',
    usual_middle: 'Most people (middle)',
    usual_range: 'Usual range (9 in 10 people)',
    day: 'Day',
    slower: 'This is taking a little longer than usual. If it worries you, contact your clinic.',
    resolved_on: 'Gone since day {day}.',
    usually_by: 'Usually settles by day {day}.',
    chart_label: '{symptom}: your answers by day after treatment',
    chart_point: 'Day {day}: {answer}',
    care_title: 'Your aftercare',
    care_none: 'Your clinic has not written aftercare instructions for this treatment.',
    clinic_contact: 'Your clinic',
    reminders: 'Remind me in the evening when I haven’t checked in',
    reminders_blocked: 'Notifications are blocked for this app in your phone’s settings.',
    reminders_on: 'Reminders are on.',
    reminders_off: 'Reminders are off.',
    sign_out: 'Sign out of this phone',
    sign_out_confirm: 'Sign out? Check-ins waiting to send on this phone will be lost.',
    signed_out: 'This phone is signed out.',
    session_ended: 'This phone was signed out. Ask your clinic for a new code.',
    error: 'Something went wrong. Please try again.',
    retry: 'Try again',
    scale_none: 'None', scale_mild: 'Mild', scale_moderate: 'Moderate', scale_severe: 'Severe', scale_very_severe: 'Very severe',
    no: 'No', yes: 'Yes',
    sym_redness: 'Redness of the treated skin',
    sym_swelling: 'Swelling or puffiness',
    sym_bruising: 'Bruises',
    sym_bleeding: 'Pinpoint bleeding or oozing',
    sym_flaking: 'Flaking, peeling, dryness or crusting',
    sym_itching: 'Itching',
    sym_pain: 'Pain, tenderness, burning or stinging',
    sym_breakout: 'New spots, acne or milia',
    sym_darkening: 'Darker patches of skin',
    sym_infection: 'Pus, yellow crust, warmth or spreading redness',
    sym_fever: 'Temperature of 38 °C or more',
    sym_blisters: 'Blisters or cold sores',
    care_sunscreen: 'Did you put on sunscreen today?',
    care_sun_exposure: 'Were you out in strong sun today?',
    care_makeup: 'Did you wear make-up today?',
    care_exercise: 'Did you exercise or sweat a lot today?',
    care_hot_shower: 'Did you have a hot shower, bath or sauna today?',
  },
  de: {
    app_name: 'Aftercare',
    skip: 'Zum Inhalt springen',
    language: 'Sprache',
    loading: 'Wird geladen…',
    nav: 'Hauptmenü',
    nav_today: 'Heute',
    nav_check_in: 'Eintragen',
    nav_recovery: 'Mein Verlauf',
    nav_care: 'Nachsorge',
    enroll_title: 'Dieses Telefon verbinden',
    enroll_intro: 'Ihre Praxis gibt Ihnen einen Code oder einen QR-Code zum Scannen. Der QR-Code öffnet diese App und verbindet sie von selbst.',
    enroll_code: 'Code Ihrer Praxis',
    enroll_hint: 'Zum Beispiel K7QM-4XRT-9PWN. Groß- und Kleinschreibung, Leerzeichen und Bindestriche spielen keine Rolle.',
    enroll_submit: 'Verbinden',
    enroll_working: 'Wird verbunden…',
    enroll_refused: 'Dieser Code funktioniert nicht. Vielleicht wurde er schon benutzt oder ist abgelaufen: Bitten Sie Ihre Praxis um einen neuen.',
    offline_needed: 'Sie sind offline. Zum Verbinden braucht das Telefon einmal Internet.',
    today_title: 'Heute',
    treatment_of: 'Ihre Behandlung: {name}, am {date}',
    day_n: 'Tag {day} nach Ihrer Behandlung',
    due_today: 'Ihr Eintrag für heute steht noch aus.',
    done_today: 'Danke, der Eintrag für heute ist erledigt.',
    no_check_in_today: 'Für heute ist kein Eintrag geplant.',
    check_in_now: 'Jetzt eintragen',
    coming_days: 'Ihre nächsten Eintragstage',
    no_coming_days: 'Es sind keine Einträge mehr geplant. Melden Sie sich bei Ihrer Praxis, wenn Sie etwas beunruhigt.',
    no_treatment: 'Ihre Praxis hat noch keine Behandlung für Sie eingetragen.',
    outbox_title: 'Ihre Einträge auf diesem Telefon',
    waiting: 'Wartet auf Versand',
    sent: 'Gesendet',
    refused: 'Nicht angenommen',
    waiting_note: 'Auf diesem Telefon gespeichert. Er wird von selbst gesendet, sobald Sie wieder online sind.',
    offline_banner: 'Sie sind offline. Sie können trotzdem eintragen; es wird später gesendet.',
    check_in_title: 'Eintrag für heute',
    check_in_intro: 'Wie geht es Ihrer Haut heute? Wählen Sie für jede Frage eine Antwort: wie es heute am schlimmsten war.',
    aftercare_questions: 'Ihre Nachsorge heute',
    note: 'Möchten Sie Ihrer Praxis noch etwas mitteilen? (freiwillig)',
    note_who_reads: 'Ihre Praxis liest Notizen während der Sprechzeiten. Bei etwas Dringendem rufen Sie bitte die Praxis an.',
    submit: 'Eintrag senden',
    sending: 'Wird gesendet…',
    thanks: 'Danke, Ihr Eintrag wurde gesendet.',
    saved_offline: 'Auf diesem Telefon gespeichert: Er wird gesendet, sobald Sie wieder online sind.',
    choose_all: 'Bitte beantworten Sie jede Frage zu Ihrer Haut.',
    contact_title: 'Bitte melden Sie sich jetzt bei Ihrer Praxis',
    contact_body: 'Ihre Angaben können ein Zeichen sein, das bald angesehen werden sollte. Bitte rufen Sie heute Ihre Praxis an.',
    contact_call: '{phone} anrufen',
    contact_no_phone: 'Bitte rufen Sie Ihre Praxis unter der gewohnten Nummer an.',
    red_flag_waiting: 'Ihre Angaben sind auf diesem Telefon gespeichert und werden an Ihre Praxis gesendet, sobald das Telefon wieder online ist. Bis dahin weiß Ihre Praxis nichts davon: Bitte rufen Sie an.',
    clinic_alerted: 'Ihre Praxis wurde durch Ihren Eintrag vom {date} benachrichtigt.',
    seen: 'Ich habe das gesehen',
    recovery_title: 'Mein Verlauf',
    recovery_intro: 'Ihre Angaben an jedem Tag, verglichen mit den meisten Menschen nach derselben Behandlung.',
    recovery_none: 'Ihr Verlauf erscheint hier, sobald Sie eingetragen haben.',
    none_so_far: 'Bei jedem Eintrag nicht vorhanden: {list}.',
    you: 'Sie',
    usual_middle: 'Die meisten (Mitte)',
    usual_range: 'Üblicher Bereich (9 von 10)',
    day: 'Tag',
    slower: 'Das dauert etwas länger als üblich. Wenn es Sie beunruhigt, melden Sie sich bei Ihrer Praxis.',
    resolved_on: 'Abgeklungen seit Tag {day}.',
    usually_by: 'Klingt meist bis Tag {day} ab.',
    chart_label: '{symptom}: Ihre Angaben nach Tagen seit der Behandlung',
    chart_point: 'Tag {day}: {answer}',
    care_title: 'Ihre Nachsorge',
    care_none: 'Ihre Praxis hat für diese Behandlung keine Nachsorgehinweise hinterlegt.',
    clinic_contact: 'Ihre Praxis',
    reminders: 'Abends erinnern, wenn ich noch nicht eingetragen habe',
    reminders_blocked: 'Mitteilungen sind für diese App in den Einstellungen Ihres Telefons blockiert.',
    reminders_on: 'Erinnerungen sind an.',
    reminders_off: 'Erinnerungen sind aus.',
    sign_out: 'Dieses Telefon abmelden',
    sign_out_confirm: 'Abmelden? Einträge, die noch auf Versand warten, gehen verloren.',
    signed_out: 'Dieses Telefon ist abgemeldet.',
    session_ended: 'Dieses Telefon wurde abgemeldet. Bitten Sie Ihre Praxis um einen neuen Code.',
    error: 'Etwas ist schiefgegangen. Bitte versuchen Sie es noch einmal.',
    retry: 'Noch einmal versuchen',
    scale_none: 'Keine', scale_mild: 'Leicht', scale_moderate: 'Mäßig', scale_severe: 'Stark', scale_very_severe: 'Sehr stark',
    no: 'Nein', yes: 'Ja',
    sym_redness: 'Rötung der behandelten Haut',
    sym_swelling: 'Schwellung',
    sym_bruising: 'Blaue Flecken',
    sym_bleeding: 'Punktförmige Blutungen oder Nässen',
    sym_flaking: 'Schuppung, Schälen, Trockenheit oder Krusten',
    sym_itching: 'Juckreiz',
    sym_pain: 'Schmerzen, Druckempfindlichkeit, Brennen oder Stechen',
    sym_breakout: 'Neue Pickel, Akne oder Milien',
    sym_darkening: 'Dunklere Hautstellen',
    sym_infection: 'Eiter, gelbe Krusten, Wärme oder sich ausbreitende Rötung',
    sym_fever: 'Temperatur von 38 °C oder mehr',
    sym_blisters: 'Bläschen oder Lippenherpes',
    care_sunscreen: 'Haben Sie heute Sonnenschutz aufgetragen?',
    care_sun_exposure: 'Waren Sie heute in starker Sonne?',
    care_makeup: 'Haben Sie heute Make-up getragen?',
    care_exercise: 'Haben Sie heute Sport gemacht oder stark geschwitzt?',
    care_hot_shower: 'Haben Sie heute heiß geduscht, gebadet oder sauniert?',
  },
};

const SCALE = ['scale_none', 'scale_mild', 'scale_moderate', 'scale_severe', 'scale_very_severe'];
export const AFTERCARE = ['sunscreen', 'sun_exposure', 'makeup', 'exercise', 'hot_shower'];

let lang = chosen();

function chosen() {
  const saved = localStorage.getItem(KEY);
  if (saved && TEXT[saved]) return saved;
  return (navigator.language || 'en').toLowerCase().startsWith('de') ? 'de' : 'en';
}

export function language() {
  return lang;
}

export function setLanguage(next) {
  if (!TEXT[next]) return;
  lang = next;
  localStorage.setItem(KEY, next);
  document.documentElement.lang = next;
}

/** The text for `key` in the chosen language, with `{name}` filled from `vars`. */
export function t(key, vars = {}) {
  const text = TEXT[lang][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

/** A symptom item's question: ours for the defaults, the clinic's label for its own items. */
export function symptomLabel(item) {
  return item.default && TEXT[lang][`sym_${item.code}`] ? t(`sym_${item.code}`) : item.label;
}

/** The words for an item's answers, lowest first. */
export function answerWords(item) {
  if (item.kind === 'presence') return [t('no'), t('yes')];
  return SCALE.map((key) => t(key));
}

/** A date (YYYY-MM-DD or a time) the way the phone's language writes it. */
export function formatDate(value) {
  const date = value.length === 10 ? new Date(`${value}T12:00:00`) : new Date(value);
  return date.toLocaleDateString(lang === 'de' ? 'de-DE' : 'en-GB', { weekday: 'short', day: 'numeric', month: 'short' });
}
