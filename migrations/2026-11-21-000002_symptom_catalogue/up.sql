-- The symptom catalogue: the defaults every clinic shares (clinic_id NULL) and each clinic's own items.
CREATE TABLE symptoms (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    clinic_id uuid REFERENCES clinics (id),
    code text NOT NULL CHECK (code ~ '^[a-z][a-z0-9_]{1,39}$'),
    label text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('severity', 'presence')),
    position integer NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX symptoms_default_code_key ON symptoms (code) WHERE clinic_id IS NULL;
CREATE UNIQUE INDEX symptoms_clinic_code_key ON symptoms (clinic_id, code) WHERE clinic_id IS NOT NULL;

INSERT INTO symptoms (clinic_id, code, label, kind, position) VALUES
    (NULL, 'redness',   'Redness of the treated skin',                      'severity', 1),
    (NULL, 'swelling',  'Swelling or puffiness',                            'severity', 2),
    (NULL, 'bruising',  'Bruises',                                          'severity', 3),
    (NULL, 'bleeding',  'Pinpoint bleeding or oozing',                      'severity', 4),
    (NULL, 'flaking',   'Flaking, peeling, dryness or crusting',            'severity', 5),
    (NULL, 'itching',   'Itching',                                          'severity', 6),
    (NULL, 'pain',      'Pain, tenderness, burning or stinging',            'severity', 7),
    (NULL, 'breakout',  'New spots, acne or milia',                         'severity', 8),
    (NULL, 'darkening', 'Darker patches of skin',                           'severity', 9),
    (NULL, 'infection', 'Pus, yellow crust, warmth or spreading redness',   'severity', 10),
    (NULL, 'fever',     'Temperature of 38 °C or more',                     'presence', 11),
    (NULL, 'blisters',  'Blisters or cold sores',                           'presence', 12);
