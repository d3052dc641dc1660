app_name = "shops"
urlpatterns = []
