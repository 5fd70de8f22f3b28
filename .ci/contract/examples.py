"""Every operation that takes or returns a JSON body shows an example of
it, and every example is valid against its schema.

An example counts at the media type (`example` / `examples`) or on the
schema the body refers to (a page or array body counts through its items'
schema only when the document gives the page or array an example of its
own, as `yizhan openapi` does). Each example found is validated with the
JSON Schema 2020-12 validator against the body's schema (OpenAPI 3.1
schemas are JSON Schema). Fails naming every operation missing an example
and every invalid one.

Usage: python examples.py openapi/licensing.json [...]
"""

import json
import sys

import jsonschema


def schema_of(doc, schema):
    """The schema `schema` refers to (one level), or itself."""
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        return doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def examples_of(doc, media):
    """The examples of a media type object: its own, else its schema's."""
    if "example" in media:
        return [media["example"]]
    if "examples" in media:
        return [e.get("value") for e in media["examples"].values() if "value" in e]
    schema = schema_of(doc, media.get("schema", {}))
    if "example" in schema:
        return [schema["example"]]
    return list(schema.get("examples", []))


def bodies(doc):
    """(operation, what, media type, media object) for every JSON body."""
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "put", "post", "patch", "delete"):
                continue
            name = f"{method.upper()} {path}"
            for ct, media in op.get("requestBody", {}).get("content", {}).items():
                yield name, "request", ct, media
            for status, response in op.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                for ct, media in response.get("content", {}).items():
                    yield name, f"{status} response", ct, media


def check(path):
    doc = json.load(open(path))
    problems = []
    checked = 0
    for name, what, ct, media in bodies(doc):
        if "json" not in ct:
            continue
        found = examples_of(doc, media)
        if not found or any(e is None for e in found):
            problems.append(f"{path}: {name}: {what} ({ct}) has no example")
            continue
        # The body's schema, resolvable against the whole document.
        schema = dict(media.get("schema", {}), components=doc.get("components", {}))
        validator = jsonschema.Draft202012Validator(schema)
        for example in found:
            checked += 1
            for error in validator.iter_errors(example):
                where = "/".join(str(p) for p in error.absolute_path) or "(root)"
                problems.append(f"{path}: {name}: {what} example invalid at {where}: {error.message[:200]}")
    return checked, problems


def main():
    total, problems = 0, []
    for path in sys.argv[1:]:
        checked, found = check(path)
        total += checked
        problems += found
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        sys.exit(f"{len(problems)} example problems")
    print(f"{total} examples present and valid against their schemas")


if __name__ == "__main__":
    main()
