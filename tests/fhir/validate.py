#!/usr/bin/env python3
"""Validates FHIR R4 (4.0.1) JSON with implementations independent of Aftercare's, three ways:

1. Structure: fhir.resources 6.4.0, the last release whose models are FHIR R4 4.0.1 itself (6.5 and
   later model R4B, 7 and later R5), on pydantic 1: unknown elements, wrong types, wrong
   cardinalities and malformed primitives (ids, dates, instants, URIs, codes) are refused.
2. Invariants: the constraints R4 defines on the resources Aftercare sends, as the specification
   writes them in FHIRPath, evaluated by fhirpathpy with its R4 model (so `value` finds value[x]).
3. Codes: every coding in a system under Aftercare's canonical base must be a concept of the
   CodeSystem of that URL given with --codes (a JSON Bundle, resource or ndjson of CodeSystems, as
   /fhir/R4/CodeSystem answers), with that concept's display.

Reads resources from the files named (or stdin): a JSON resource per file, or ndjson (a resource
per line, as Bulk Data exports). A Bundle is validated with the resources it holds. Prints one line
per error and exits 1 if there was any; else prints how many resources of each type were valid.

    validate.py [--type TYPE] [--codes FILE] [FILE...]   (--type: every resource must be of it)
"""
import json
import sys
from collections import Counter

from fhir.resources import __fhir_version__, get_fhir_model_class
from fhirpathpy import compile as fhirpath
from fhirpathpy.models import models

assert __fhir_version__ == "4.0.1", f"fhir.resources models FHIR {__fhir_version__}, not R4 4.0.1"

OURS = "https://aftercare.dev/fhir/CodeSystem/"
NAME = "name.exists() implies name.matches('[A-Z]([A-Za-z0-9_]){0,254}')"
ITEMS = "repeat(item)"

# R4's invariants (key, FHIRPath), written at the resource: an element's constraint holds for all
# its occurrences (`all`). ele-1 and the narrative guideline dom-6 (a warning) are not checked.
COMMON = [
    ("ext-1", "descendants().ofType(Extension).all(extension.exists() != value.exists())"),
    ("dom-2", "contained.contained.empty()"),
    ("dom-4", "contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()"),
    ("dom-5", "contained.meta.security.empty()"),
]
INVARIANTS = {
    "Patient": [
        ("pat-1", "contact.all(name.exists() or telecom.exists() or address.exists() or organization.exists())"),
    ],
    "Observation": [
        ("obs-6", "dataAbsentReason.empty() or value.empty()"),
        ("obs-7", "value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()"),
        ("obs-3", "referenceRange.all(low.exists() or high.exists() or text.exists())"),
    ],
    "Questionnaire": [
        ("que-0", NAME),
        ("que-2", "descendants().linkId.isDistinct()"),
        ("que-1", f"{ITEMS}.all((type='group' implies item.empty().not()) and (type='display' implies item.empty()))"),
        ("que-3", f"{ITEMS}.all(type!='display' or code.empty())"),
        ("que-4", f"{ITEMS}.all(answerOption.empty() or answerValueSet.empty())"),
        ("que-5", f"{ITEMS}.all((type ='choice' or type = 'open-choice' or type = 'decimal' or type = 'integer' "
                  "or type = 'date' or type = 'dateTime' or type = 'time' or type = 'string' or type = 'quantity') "
                  "or (answerValueSet.empty() and answerOption.empty()))"),
        ("que-6", f"{ITEMS}.all(type!='display' or (required.empty() and repeats.empty()))"),
        ("que-8", f"{ITEMS}.all((type!='group' and type!='display') or initial.empty())"),
        ("que-9", f"{ITEMS}.all(type!='display' or readOnly.empty())"),
        ("que-10", f"{ITEMS}.all((type in ('boolean' | 'decimal' | 'integer' | 'string' | 'text' | 'url' | 'open-choice')) or maxLength.empty())"),
        ("que-11", f"{ITEMS}.all(answerOption.empty() or initial.empty())"),
        ("que-12", f"{ITEMS}.all(enableWhen.count() > 2 implies enableBehavior.exists())"),
        ("que-13", f"{ITEMS}.all(repeats=true or initial.count() <= 1)"),
        ("que-7", f"{ITEMS}.enableWhen.all(operator = 'exists' implies (answer is Boolean))"),
    ],
    "QuestionnaireResponse": [
        ("qrs-1", f"{ITEMS}.all((answer.exists() and item.exists()).not())"),
    ],
    # R4 defines no invariants of their own on these (only DomainResource's, in COMMON).
    "Procedure": [],
    "AdverseEvent": [],
    "Group": [
        ("grp-1", "member.empty() or (actual = true)"),
    ],
    "CapabilityStatement": [
        ("cpb-0", NAME),
        ("cpb-1", "rest.exists() or messaging.exists() or document.exists()"),
        ("cpb-2", "(description.count() + software.count() + implementation.count()) > 0"),
        ("cpb-3", "messaging.endpoint.empty() or kind = 'instance'"),
        ("cpb-7", "document.select(profile&mode).isDistinct()"),
        ("cpb-9", "rest.all(resource.select(type).isDistinct())"),
        ("cpb-12", "rest.resource.all(searchParam.select(name).isDistinct())"),
        ("cpb-14", "(kind != 'instance') or implementation.exists()"),
        ("cpb-15", "(kind != 'capability') or (implementation.exists().not() and software.exists())"),
        ("cpb-16", "(kind!='requirements') or (implementation.exists().not() and software.exists().not())"),
    ],
    "CodeSystem": [
        ("csd-0", NAME),
        ("csd-1", "concept.code.combine($this.descendants().concept.code).isDistinct()"),
        ("csd-2", "property.code.isDistinct()"),
    ],
    "ValueSet": [
        ("vsd-0", NAME),
        ("vsd-1", "compose.include.all(valueSet.exists() or system.exists())"),
        ("vsd-2", "compose.include.all(concept.empty() or filter.empty())"),
        ("vsd-3", "compose.include.all(concept.empty() or system.exists())"),
    ],
    "Bundle": [
        ("bdl-1", "total.empty() or (type = 'searchset') or (type = 'history')"),
        ("bdl-2", "entry.search.empty() or (type = 'searchset')"),
        ("bdl-3", "entry.request.empty() or type = 'batch' or type = 'transaction' or type = 'history'"),
        ("bdl-4", "entry.response.empty() or type = 'batch-response' or type = 'transaction-response' or type = 'history'"),
        ("bdl-5", "entry.all(resource.exists() or request.exists() or response.exists())"),
        ("bdl-7", "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()"),
        ("bdl-8", "entry.all(fullUrl.contains('/_history/').not())"),
        ("bdl-9", "type = 'document' implies (identifier.system.exists() and identifier.value.exists())"),
    ],
    "Parameters": [
        ("inv-1", "parameter.all((part.exists() and value.empty() and resource.empty()) or "
                  "(part.empty() and (value.exists() xor resource.exists())))"),
    ],
    "OperationOutcome": [],
    "Media": [
        ("att-1", "content.all(data.empty() or contentType.exists())"),
    ],
    "Binary": [],
}


def resources(text, name):
    text = text.strip()
    if not text:
        return
    if text.startswith("{") and "\n{" not in text:
        yield name, json.loads(text)
        return
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            yield f"{name}:{n}", json.loads(line)


def code_systems(text):
    """Our CodeSystems by URL: each concept's code to its display."""
    systems = {}
    for _, r in resources(text, "codes"):
        found = [e["resource"] for e in r.get("entry", [])] if r.get("resourceType") == "Bundle" else [r]
        for cs in found:
            if cs.get("resourceType") == "CodeSystem":
                systems[cs["url"]] = {c["code"]: c.get("display") for c in cs.get("concept", [])}
    return systems


def codings(value, path="$"):
    if isinstance(value, dict):
        if isinstance(value.get("system"), str) and "code" in value:
            yield path, value
        for k, v in value.items():
            yield from codings(v, f"{path}.{k}")
    elif isinstance(value, list):
        for n, v in enumerate(value):
            yield from codings(v, f"{path}[{n}]")


def check_codes(resource, systems):
    for path, c in codings(resource):
        system, code = c["system"], c["code"]
        if not system.startswith(OURS):
            continue
        if systems is None:
            yield f"{path}: {system}|{code}: no CodeSystems given (--codes) to check it against"
        elif system not in systems:
            yield f"{path}: {system} is not a published CodeSystem"
        elif code not in systems[system]:
            yield f"{path}: {code} is not a code of {system}"
        elif "display" in c and c["display"] != systems[system][code]:
            yield f"{path}: {system}|{code} is '{systems[system][code]}', not '{c['display']}'"


COMPILED = {}


def compiled(expression):
    """An expression compiled once (parsing it costs more than evaluating it)."""
    if expression not in COMPILED:
        COMPILED[expression] = fhirpath(expression, models["r4"])
    return COMPILED[expression]


def check_invariants(kind, resource):
    rules = INVARIANTS.get(kind)
    if rules is None:
        yield f"no invariants written for {kind}: add R4's to validate.py"
        return
    for key, expression in COMMON + rules:
        try:
            result = compiled(expression)(resource, {"resource": resource})
        except Exception as e:  # an expression the engine can't run is an error, not a pass
            yield f"{key}: could not be evaluated: {e}"
            continue
        if result != [True]:
            yield f"{key} fails: {expression}"


def validate(where, resource, wanted, systems):
    kind = resource.get("resourceType") if isinstance(resource, dict) else None
    if kind is None:
        return [f"{where}: not a FHIR resource (no resourceType)"]
    if wanted and kind != wanted:
        return [f"{where}: a {kind}, not a {wanted}"]
    label = f"{where}: {kind}/{resource.get('id')}"
    try:
        get_fhir_model_class(kind).parse_obj(resource)
    except Exception as e:  # the model's own message names each wrong element
        return [f"{label}: {e}"]
    errors = [f"{label}: {e}" for e in check_invariants(kind, resource)]
    errors += [f"{label}: {e}" for e in check_codes(resource, systems)]
    for n, entry in enumerate(resource.get("entry", []) if kind == "Bundle" else []):
        inner = entry.get("resource")
        if isinstance(inner, dict):
            errors += validate(f"{where} entry[{n}]", inner, None, systems)
    return errors


def main(argv):
    wanted, systems = None, None
    while argv[:1] in (["--type"], ["--codes"]):
        if argv[0] == "--type":
            wanted = argv[1]
        else:
            systems = code_systems(open(argv[1], encoding="utf-8").read())
        argv = argv[2:]
    sources = [(name, open(name, encoding="utf-8").read()) for name in argv] or [("stdin", sys.stdin.read())]
    valid, errors = Counter(), []
    for name, text in sources:
        try:
            for where, resource in resources(text, name):
                found = validate(where, resource, wanted, systems)
                if found:
                    errors.extend(found)
                else:
                    valid[resource["resourceType"]] += 1
        except json.JSONDecodeError as e:
            errors.append(f"{name}: not JSON: {e}")
    for error in errors:
        print(error)
    if not errors:
        print(json.dumps(valid, sort_keys=True))
    return 1 if errors or not valid else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
