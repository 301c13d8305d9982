"""tfaudiogan.models: network builders (functional keras.Model factories), one module per paper."""

from tfaudiogan.models import cyclegan as cyclegan
