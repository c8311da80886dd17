import os

from authsite.handlers import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "authsite.settings.base")

application = get_wsgi_application()
