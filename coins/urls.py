app_name = "coins"
urlpatterns = []
