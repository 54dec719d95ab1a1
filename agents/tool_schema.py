"""Checks a model's JSON against the JSON Schema we declared for it: a tool call's
arguments, or a post-call analysis.

Only the subset those schemas use (type, enum, properties, required, additionalProperties,
minLength, minimum, maximum); a model's output is plain JSON, so this is all a check needs.
"""

_TYPES = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _is_of_type(value, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def schema_errors(value, schema: dict, path: str = "arguments") -> list[str]:
    """Every way `value` breaks `schema`, as sentences naming the offending field."""
    expected = schema.get("type")
    if expected is not None:
        names = expected if isinstance(expected, list) else [expected]
        if not any(_is_of_type(value, name) for name in names):
            return [f"{path} must be of type {' or '.join(names)}"]
    if "enum" in schema and value not in schema["enum"]:
        options = ", ".join(map(str, schema["enum"]))
        return [f"{path} must be one of: {options}"]
    errors = []
    if isinstance(value, str) and len(value) < schema.get("minLength", 0):
        errors.append(f"{path} must not be empty")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{path} must be at least {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{path} must be at most {schema['maximum']}")
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                errors.append(f"{path}.{name} is required")
        for name, item in value.items():
            if name in properties:
                errors += schema_errors(item, properties[name], f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                errors.append(f"{path}.{name} is not a known argument")
    return errors
