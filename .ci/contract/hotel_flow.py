"""The hotel flow (一业一证) driven through the Python clients generated from
the committed OpenAPI documents, against a running stack, as a partner
would: notice -> materials -> submit -> accept -> six approvals -> licence
-> hand-out. Every call goes through the generated client and must come
back as the generated model of its documented status; any step that the
generated client cannot make, or whose answer it cannot read, fails the run.

Usage: python hotel_flow.py <generated-clients-dir> <token-command>
  with LICENSING_URL and DOCUMENT_URL set; <token-command> is a shell
  command line that prints a token for the arguments appended to it.
"""

import datetime
import io
import os
import shlex
import subprocess
import sys
import time
import typing

ENTERPRISE = "91350100M000100Y43"
HOTEL_ANSWERS = {"serves_food": True, "floor_area_m2": 1200, "hosts_performances": True}


def fill(field):
    """A valid value for one field of the notice's merged form, from its type
    (a generated model of the discriminated union), as a partner's form
    would collect it."""
    kind = field.type_
    if kind == "text":
        return "福州一站酒店有限公司"[: field.max_len]
    if kind == "integer":
        return max(field.min_, min(field.max_, 80))
    if kind == "number":
        return max(field.min_, min(field.max_, 1200.5))
    if kind == "boolean":
        return True
    if kind == "date":
        return (datetime.date.today() + datetime.timedelta(days=60)).isoformat()
    if kind == "uscc":
        return ENTERPRISE
    if kind == "id_card_no":
        return "11010519491231002X"
    if kind == "phone":
        return "13800138000"
    if kind == "choice":
        return field.options[0]
    raise AssertionError(f"field {field.key}: unknown type {kind}")


def token(command, *args):
    out = subprocess.run(shlex.split(command) + list(args), check=True, capture_output=True, text=True)
    return out.stdout.strip()


def body_type(fn):
    """The generated model a `sync_detailed` takes as `body`."""
    hint = typing.get_type_hints(fn)["body"]
    for candidate in typing.get_args(hint) or (hint,):
        if hasattr(candidate, "from_dict"):
            return candidate
    raise AssertionError(f"{fn.__module__}: body is not a generated model: {hint}")


def call(step, endpoint, client, status, body=None, **kwargs):
    """Calls `endpoint.sync_detailed`; the answer must have `status` and be
    parsed into a generated model (not left as raw bytes)."""
    if body is not None and not hasattr(body, "to_dict"):
        body = body_type(endpoint.sync_detailed).from_dict(body)
    if body is not None:
        kwargs["body"] = body
    response = endpoint.sync_detailed(client=client, **kwargs)
    code = int(response.status_code)
    if code != status:
        raise AssertionError(f"{step}: expected {status}, got {code}: {response.content[:500]!r}")
    parsed = response.parsed
    if parsed is None or not hasattr(parsed, "to_dict"):
        raise AssertionError(f"{step}: the generated client did not read the {status} answer: {parsed!r}")
    print(f"ok  {step}: {status} {type(parsed).__name__}")
    return parsed


def main():
    clients_dir, token_command = sys.argv[1], sys.argv[2]
    sys.path.insert(0, clients_dir)
    import yizhan_document_client as doc
    import yizhan_licensing_client as lic
    from yizhan_document_client.api.materials import upload
    from yizhan_document_client.api.verification import verify_by_id
    from yizhan_document_client.models import UploadForm
    from yizhan_document_client.types import File
    from yizhan_licensing_client.api.applications import get_application, hand_out, intake, submit
    from yizhan_licensing_client.api.catalog import compute_notice, get_scenario
    from yizhan_licensing_client.api.tasks import decide, queue

    licensing_url, document_url = os.environ["LICENSING_URL"], os.environ["DOCUMENT_URL"]
    applicant = token(token_command, "--role", "applicant", "--sub", "flow-applicant", "--uscc", ENTERPRISE)
    clerk = token(token_command, "--role", "window_clerk", "--sub", "flow-clerk")

    def lic_as(t):
        return lic.AuthenticatedClient(base_url=licensing_url, token=t, raise_on_unexpected_status=False)

    anonymous = lic.Client(base_url=licensing_url)
    scenario = call("scenario", get_scenario, anonymous, 200, code="hotel").to_dict()
    assert scenario["code"] == "hotel", scenario
    parsed_notice = call("notice", compute_notice, anonymous, 200, {"scenario": "hotel", "answers": HOTEL_ANSWERS})
    notice = parsed_notice.to_dict()
    assert len(notice["items"]) == 6, notice["items"]
    # The form's fields come back as the generated per-type models.
    form_values = {field.key: fill(field) for field in parsed_notice.form}

    documents = doc.AuthenticatedClient(base_url=document_url, token=applicant, raise_on_unexpected_status=False)
    # Each material slot takes a file of its own type (the server checks it).
    materials = {}
    for m in notice["materials"]:
        pdf = b"%PDF-1.4\n" + os.urandom(2048).hex().encode() + b"\n%%EOF\n"
        form = UploadForm(
            material_type=m["code"],
            file=File(payload=io.BytesIO(pdf), file_name=f"{m['code']}.pdf", mime_type="application/pdf"),
        )
        materials[m["code"]] = call(f"upload {m['code']}", upload, documents, 201, form).to_dict()["id"]

    application = call(
        "submit",
        submit,
        lic_as(applicant),
        201,
        {"scenario": "hotel", "answers": HOTEL_ANSWERS, "enterprise_uscc": ENTERPRISE, "form": form_values, "materials": materials},
    ).to_dict()
    app_id = application["id"]
    accepted = call("accept", intake, lic_as(clerk), 200, {"decision": "accept"}, id=app_id).to_dict()
    tasks = accepted["tasks"]
    assert len(tasks) == 6, tasks

    for n, task in enumerate(tasks):
        dept = task["department_code"]
        reviewer = token(token_command, "--role", "dept_reviewer", "--sub", f"flow-{dept}", "--dept", dept)
        queued = call(f"queue {dept}", queue, lic_as(reviewer), 200).to_dict()
        assert any(t["id"] == task["id"] for t in queued["items"]), queued
        decision = {"decision": "approve", "permit_number": f"XK-2026-{n:04d}"}
        call(f"approve {dept}", decide, lic_as(reviewer), 200, decision, id=task["id"])

    deadline = time.monotonic() + 60
    while True:
        current = call("licence", get_application, lic_as(applicant), 200, id=app_id).to_dict()
        if current["status"] == "licence_issued":
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"no licence within 60 s: {current['status']}")
        time.sleep(0.5)
    certificate_id = current["certificate_id"]
    verified = call("verify", verify_by_id, doc.Client(base_url=document_url), 200, id=certificate_id).to_dict()
    assert verified["valid"] is True, verified

    handed = call("hand-out", hand_out, lic_as(clerk), 200, id=app_id).to_dict()
    assert handed["status"] == "handed_out", handed
    print(f"hotel flow through the generated clients: application {app_id} handed out, certificate {certificate_id}")


if __name__ == "__main__":
    main()
