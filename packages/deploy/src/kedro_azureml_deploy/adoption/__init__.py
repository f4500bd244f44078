"""``kedro azureml init``: adopt an existing Kedro project (see ``init_project``); and
``kedro new --starter azureml``: start one with the same template (see ``starters``).

- ``answers``: the facts read from the project and the Azure settings, as template answers;
- ``predecessors``: configs written for kedro-azureml and kedro-azureml-pipeline;
- ``template``: where the copier template is released, and rendering it;
- ``init_project``: the adoption itself, file by file, and the next steps;
- ``starters``: the ``azureml`` Kedro starter, a cookiecutter shim (``starter/``) whose hook
  renders the template.
"""
