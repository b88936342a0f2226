"""Both overlays render with the pinned kustomize, and every object they render is one
that a current Kubernetes (OpenAPI schemas) or the pinned Dapr (its CRDs) accepts,
with no field that it does not know."""

from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.k8s.manifests import NAMESPACE, OVERLAYS, Object, documents, render
from tests.k8s.tools import ROOT, dapr_module_dir, env_file, pinned

DAPR_KINDS = ("Component", "Subscription", "Resiliency", "Configuration")


def test_the_k8s_folder_applies_the_dev_overlay(rendered: dict[str, list[Object]]) -> None:
    assert render(ROOT / "k8s") == rendered["dev"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_everything_lands_in_the_namespace(overlay: str, rendered: dict[str, list[Object]]) -> None:
    for obj in rendered[overlay]:
        expected = None if obj["kind"] == "Namespace" else NAMESPACE
        assert obj["metadata"].get("namespace") == expected, obj["metadata"]["name"]


def dapr_version() -> str:
    return env_file("versions.env")["DAPR_RUNTIME_VERSION"]


def is_dapr(obj: Object) -> bool:
    return obj["apiVersion"].startswith("dapr.io/")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_objects_match_the_openapi_schemas(
    overlay: str, rendered: dict[str, list[Object]]
) -> None:
    version = pinned()["KUBERNETES_VERSION"]
    errors = []
    for obj in rendered[overlay]:
        if is_dapr(obj):
            continue
        try:
            # strict: a field the schema does not declare is an error, as on the server
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{obj['kind']} {obj['metadata']['name']}: {error.message}")
    assert not errors, "\n".join(errors)


def closed(schema: dict[str, Any]) -> dict[str, Any]:
    """A CRD's OpenAPI schema as a JSON Schema that refuses undeclared fields, as the API
    server's strict field validation does (it would otherwise drop them silently)."""
    schema = dict(schema)
    if "properties" in schema:
        schema["properties"] = {key: closed(value) for key, value in schema["properties"].items()}
        open_ended = schema.get("x-kubernetes-preserve-unknown-fields", False)
        if "additionalProperties" not in schema and not open_ended:
            schema["additionalProperties"] = False
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            schema[key] = closed(schema[key])
    for key in ("allOf", "anyOf", "oneOf"):
        if key in schema:
            schema[key] = [closed(part) for part in schema[key]]
    return schema


def dapr_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> schema, from the CRDs in the pinned Dapr module's Helm chart."""
    schemas = {}
    for path in (dapr_module_dir() / "charts" / "dapr" / "crds").glob("*.yaml"):
        for crd in documents(path.read_text()):
            spec = crd["spec"]
            for version in spec["versions"]:
                api_version = f"{spec['group']}/{version['name']}"
                schema = version["schema"]["openAPIV3Schema"]
                schemas[api_version, spec["names"]["kind"]] = closed(schema)
    return schemas


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_dapr_resources_match_the_crds_of_the_pinned_dapr(
    overlay: str, rendered: dict[str, list[Object]]
) -> None:
    schemas = dapr_schemas()
    resources = [obj for obj in rendered[overlay] if is_dapr(obj)]
    assert {obj["kind"] for obj in resources} == set(DAPR_KINDS)
    errors = []
    for obj in resources:
        kind, name = obj["kind"], obj["metadata"]["name"]
        schema = schemas.get((obj["apiVersion"], kind))
        assert schema, f"Dapr {dapr_version()} has no CRD for {obj['apiVersion']} {kind}"
        for error in jsonschema.Draft4Validator(schema).iter_errors(obj):
            errors.append(
                f"{kind} {name}: {'/'.join(map(str, error.absolute_path))}: {error.message}"
            )
    assert not errors, "\n".join(errors)


def test_the_crd_check_refuses_an_unknown_field() -> None:
    """The check above has teeth: a misspelt top-level field is an error, not dropped."""
    component = yaml.safe_load((ROOT / "components" / "pubsub.yaml").read_text())
    component["scope"] = component.pop("scopes")
    schema = dapr_schemas()["dapr.io/v1alpha1", "Component"]
    errors = jsonschema.Draft4Validator(schema).iter_errors(component)
    assert any("'scope' was unexpected" in error.message for error in errors)


def test_the_overlays_are_all_there() -> None:
    assert sorted(p.name for p in (ROOT / "k8s" / "overlays").iterdir()) == sorted(OVERLAYS)
    assert all((ROOT / "k8s" / "overlays" / o / "kustomization.yaml").is_file() for o in OVERLAYS)
