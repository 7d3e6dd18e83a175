using Cimef.Site.Storage;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Reports;

public static class ReportsSetup
{
    /// <summary>
    /// Report files and their life: the store (the data directory, or an S3 bucket shared by several web nodes,
    /// Storage:Reports:Provider), release, delivery to the patient, a share or FHIR, and the integrity check.
    /// </summary>
    public static IServiceCollection AddReports(this IServiceCollection services)
    {
        services.AddSingleton<ReportStore>(sp => sp.GetRequiredService<IOptions<StorageOptions>>().Value.Reports.IsS3
            ? ActivatorUtilities.CreateInstance<S3ReportStore>(sp)
            : ActivatorUtilities.CreateInstance<FileSystemReportStore>(sp));
        services.AddScoped<ReportPublisher>();
        services.AddScoped<ReportDelivery>(); // every path that serves a report file (patient, share, FHIR)
        services.AddScoped<PatientReportFiles>();
        services.AddScoped<ReportShares>();
        services.AddSingleton<MonthlyDownloads>();
        services.AddSingleton<IntegrityWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<IntegrityWorker>());
        return services;
    }
}
