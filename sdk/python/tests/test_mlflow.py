"""The MLflow bridge with real mlflow: a run logs artifacts and a model to ``wharf://project/model``,
Wharf versions appear with those files, and MLflow loads the model back from Wharf."""

from __future__ import annotations

from pathlib import Path

import pytest

import wharf
from registry import ADMIN_TOKEN, RegistryProcess

mlflow = pytest.importorskip("mlflow", reason="install the SDK with the [mlflow] extra")


class Doubler(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
    def predict(self, context, model_input: list[int], params=None) -> list[int]:  # type: ignore[no-untyped-def]
        return [2 * value for value in model_input]


@pytest.fixture
def tracking(registry: RegistryProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHARF_URL", registry.url)
    monkeypatch.setenv("WHARF_TOKEN", ADMIN_TOKEN)
    # Run metadata in MLflow's file store (the tracking backend is beside the point here: the
    # artifacts go to Wharf); MLflow 3 wants this opt-in for it.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mlflow.set_tracking_uri(f"file:{tmp_path / 'mlruns'}")


def test_a_run_logs_artifacts_and_a_model_into_wharf_versions_and_loads_it_back(
    tracking: None, client: wharf.Client, model: str, tmp_path: Path
) -> None:
    project, name = model.split("/")
    experiment = mlflow.create_experiment(f"exp-{name}", artifact_location=f"wharf://{project}/{name}")
    report = tmp_path / "report"
    report.mkdir()
    (report / "metrics.json").write_text('{"top1": 0.761}')
    (report / "confusion.csv").write_text("a,b\n1,2\n")

    with mlflow.start_run(experiment_id=experiment) as run:
        mlflow.log_artifacts(str(report), artifact_path="eval")
        mlflow.log_text("trained on shard 3", "notes.txt")
        info = mlflow.pyfunc.log_model(name="doubler", python_model=Doubler())
    run_id = run.info.run_id

    # The run's artifacts: one tag follows the run's newest snapshot, which holds every file.
    run_tag = client.tags.get(project, name, f"run-{run_id}")
    paths = [f["path"] for f in client.files.list(project, name, run_tag["version"])]
    assert paths == ["eval/confusion.csv", "eval/metrics.json", "notes.txt"]
    version = client.versions.get(project, name, run_tag["version"])
    assert version["state"] == "ready" and version["metadata"]["mlflow"]["scope"] == f"{run_id}/artifacts"
    assert client.files.read(project, name, run_tag["version"], "eval/metrics.json") == b'{"top1": 0.761}'

    # The logged model is a version of its own, with MLflow's files.
    model_tag = client.tags.get(project, name, f"model-{info.model_id}")
    model_files = [f["path"] for f in client.files.list(project, name, model_tag["version"])]
    assert "MLmodel" in model_files and "python_model.pkl" in model_files

    # MLflow reads it all back from Wharf.
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    assert list(loaded.predict([1, 2, 3])) == [2, 4, 6]
    assert mlflow.artifacts.load_text(f"runs:/{run_id}/notes.txt") == "trained on shard 3"
    listed = mlflow.artifacts.list_artifacts(run_id=run_id, artifact_path="eval")
    assert [(a.path, a.is_dir) for a in listed] == [("eval/confusion.csv", False), ("eval/metrics.json", False)]

    # And the model pulls like any other version.
    out = wharf.pull(f"{model}:model-{info.model_id}", tmp_path / "serving", url=client.url, token=ADMIN_TOKEN)
    assert (out / "MLmodel").is_file()


def test_a_wharf_uri_without_a_model_is_refused() -> None:
    from wharf.mlflow_plugin import WharfArtifactRepository

    with pytest.raises(wharf.InputError, match="wharf://<project>/<model>"):
        WharfArtifactRepository("wharf://vision")
