"""tfaudiogan.export: SavedModel (keras.export.ExportArchive), builtins-only TFLite, TF Serving.

Re-exported names (``name as name`` keeps ruff F401 quiet):
  export_saved_model / write_archive / next_version / read_metadata  (saved_model.py)
  convert_tflite / write_tflite / run_tflite                         (tflite.py)
  export_translator / translator_archive / check_waveform_batch      (cyclegan.py)
  rest_predict / request_body / saved_model_cli_show / saved_model_cli_run /
  make_predict_request / PredictionServicer                           (serving.py)
"""

from tfaudiogan.export.cyclegan import check_waveform_batch as check_waveform_batch
from tfaudiogan.export.cyclegan import export_translator as export_translator
from tfaudiogan.export.cyclegan import translator_archive as translator_archive
from tfaudiogan.export.saved_model import export_saved_model as export_saved_model
from tfaudiogan.export.saved_model import next_version as next_version
from tfaudiogan.export.saved_model import read_metadata as read_metadata
from tfaudiogan.export.saved_model import write_archive as write_archive
from tfaudiogan.export.serving import PredictionServicer as PredictionServicer
from tfaudiogan.export.serving import make_predict_request as make_predict_request
from tfaudiogan.export.serving import request_body as request_body
from tfaudiogan.export.serving import rest_predict as rest_predict
from tfaudiogan.export.serving import saved_model_cli_run as saved_model_cli_run
from tfaudiogan.export.serving import saved_model_cli_show as saved_model_cli_show
from tfaudiogan.export.tflite import convert_tflite as convert_tflite
from tfaudiogan.export.tflite import run_tflite as run_tflite
from tfaudiogan.export.tflite import write_tflite as write_tflite
