using Cimef.Site.Portal;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;

namespace Cimef.Site.Pages;

public static class PageSetup
{
    /// <summary>
    /// Razor Pages: every page is for staff except the patient portal (patient session) and the anonymous ones below;
    /// French model-binding messages; unknown handlers are 404/405, never a 500; the antiforgery cookie the rendered
    /// dashboards share.
    /// </summary>
    public static IServiceCollection AddCimefPages(this IServiceCollection services)
    {
        services.AddRazorPages(o =>
        {
            // One policy per page, since two [Authorize] would combine into "signed in by either scheme".
            o.Conventions.AddFolderApplicationModelConvention("/", m => m.EndpointMetadata.Add(new AuthorizeAttribute(
                m.ViewEnginePath.StartsWith("/Portal/", StringComparison.Ordinal) ? Policies.Patient : Policies.Staff)));
            o.Conventions.MarkPortalPages();
            o.Conventions.AllowAnonymousToFolder("/Account");
            o.Conventions.AllowAnonymousToPage("/Portal/Index"); // the login page
            o.Conventions.AllowAnonymousToPage("/Portal/Logout"); // clears the cookie even when the session has expired
            o.Conventions.AllowAnonymousToPage("/Portal/Forget"); // « Oublier ce téléphone » is offered on the login page too
            o.Conventions.AllowAnonymousToPage("/Error");
            o.Conventions.AllowAnonymousToFolder("/Payments"); // the pages Wave sends the patient back to (no patient data)
            o.Conventions.AllowAnonymousToFolder("/Share"); // a doctor's shared-report link: the code, then a cookie bound to that share
            o.Conventions.AuthorizeFolder("/Staff", Policies.Admin);
        }).ConfigureApplicationPartManager(parts =>
        {
            // Pages and minimal APIs only: no search for controllers or view components, which loads every type of the
            // site's assembly and of the htmx packages.
            parts.FeatureProviders.Remove(parts.FeatureProviders.OfType<Microsoft.AspNetCore.Mvc.Controllers.ControllerFeatureProvider>().Single());
            parts.FeatureProviders.Remove(parts.FeatureProviders.OfType<Microsoft.AspNetCore.Mvc.ViewComponents.ViewComponentFeatureProvider>().Single());
        });
        services.Configure<Microsoft.AspNetCore.Mvc.MvcOptions>(FrenchModelBinding.Apply);
        services.Configure<Microsoft.AspNetCore.Mvc.MvcOptions>(o => o.Filters.Add(new UnknownPageHandlerFilter()));
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = RenderedDashboards.AntiforgeryCookie;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.HeaderName = "RequestVerificationToken";
        });
        return services;
    }
}
