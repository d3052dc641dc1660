app_name = "affiliate"
urlpatterns = []
