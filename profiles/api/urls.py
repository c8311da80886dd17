app_name = "profiles_api"

urlpatterns: list = []
