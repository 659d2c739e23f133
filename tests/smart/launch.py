"""A SMART app, driven headless by PyPI's fhirclient (tests/api/smart_launch.rs runs it).

    launch.py authorize STATE SETTINGS_JSON   prints the authorize URL the app sends the browser
                                             to, and saves the client's state (PKCE verifier, state)
    launch.py callback STATE URL             hands the redirect the browser came back with to the
                                             client, which trades the code (with its verifier) for a
                                             token, then reads the patient in context; prints JSON

SETTINGS_JSON: {"app_id", "api_base", "redirect_uri", "scope", "launch_token"?}. The client finds the
authorize and token endpoints in the server's CapabilityStatement, as fhirclient does.
"""

import json
import sys

from fhirclient import client
from fhirclient.models.patient import Patient


def save(path):
    def write(state):
        with open(path, "w") as f:
            json.dump(state, f)

    return write


def main():
    command, path = sys.argv[1], sys.argv[2]
    if command == "authorize":
        settings = json.loads(sys.argv[3])
        smart = client.FHIRClient(settings=settings, save_func=save(path))
        print(smart.authorize_url)
        smart.save_state()
        return
    with open(path) as f:
        state = json.load(f)
    smart = client.FHIRClient(state=state, save_func=save(path))
    url = sys.argv[3]
    smart.handle_callback(url)
    out = {
        "access_token": smart.server.auth.access_token,
        "patient_id": smart.patient_id,
        "scope": state.get("scope"),
    }
    if smart.patient_id:
        patient = Patient.read(smart.patient_id, smart.server)
        out["patient"] = patient.as_json()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
