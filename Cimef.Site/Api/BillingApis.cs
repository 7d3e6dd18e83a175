using Cimef.Site.Invoicing;

namespace Cimef.Site.Api;

/// <summary>Front desk and billing feature: its services and its JSON endpoints.</summary>
public static class BillingApis
{
    public static IServiceCollection AddBilling(this IServiceCollection services) => services.AddScoped<InvoiceWorkflow>();

    public static void MapBillingApis(this IEndpointRouteBuilder app)
    {
        app.MapPatientsApi();
        app.MapExamsApi();
        app.MapInvoicesApi();
        app.MapAccessApi();
    }
}
