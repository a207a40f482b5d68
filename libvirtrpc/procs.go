package libvirtrpc

// Program numbers (remote_protocol.x, virkeepaliveprotocol.x).
const (
	remoteProgram     uint32 = 0x20008086
	remoteVersion     uint32 = 1
	keepaliveProgram  uint32 = 0x6b656570
	keepaliveVersion  uint32 = 1
	keepalivePing     int32  = 1
	keepalivePong     int32  = 2
	lastRemoteProcNum int32  = 453 // REMOTE_PROC_DOMAIN_... the highest of libvirt 11.7
)

// Driver features answered by CONNECT_SUPPORTS_FEATURE
// (libvirt:src/libvirt_internal.h VIR_DRV_FEATURE_*).
const (
	featureTypedParamString    = 9
	featureProgramKeepalive    = 10
	featureRemoteEventCallback = 14
	featureRemoteCloseCallback = 15
)

// Error domains (virterror.h virErrorDomain; go-libvirt leaves them unexported).
const (
	fromRPC     int32 = 7
	fromRemote  int32 = 13
	fromLXC     int32 = 17
	fromNetwork int32 = 19
)

// Procedure numbers vmlite answers: remote_protocol.x REMOTE_PROC_*, stable
// ABI. go-libvirt has them only in an internal package.
const (
	procConnectOpen                             int32 = 1
	procConnectClose                            int32 = 2
	procConnectGetType                          int32 = 3
	procConnectGetVersion                       int32 = 4
	procNodeGetInfo                             int32 = 6
	procConnectGetCapabilities                  int32 = 7
	procDomainCreate                            int32 = 9
	procDomainCreateXML                         int32 = 10
	procDomainDefineXML                         int32 = 11
	procDomainDestroy                           int32 = 12
	procDomainGetXMLDesc                        int32 = 14
	procDomainGetAutostart                      int32 = 15
	procDomainGetInfo                           int32 = 16
	procDomainGetOsType                         int32 = 19
	procDomainGetVcpus                          int32 = 20
	procConnectListDefinedDomains               int32 = 21
	procDomainLookupByID                        int32 = 22
	procDomainLookupByName                      int32 = 23
	procDomainLookupByUUID                      int32 = 24
	procConnectNumOfDefinedDomains              int32 = 25
	procDomainReboot                            int32 = 27
	procDomainResume                            int32 = 28
	procDomainSetAutostart                      int32 = 29
	procDomainShutdown                          int32 = 33
	procDomainSuspend                           int32 = 34
	procDomainUndefine                          int32 = 35
	procConnectListDomains                      int32 = 37
	procConnectListNetworks                     int32 = 38
	procNetworkCreate                           int32 = 39
	procNetworkCreateXML                        int32 = 40
	procNetworkDefineXML                        int32 = 41
	procNetworkDestroy                          int32 = 42
	procNetworkGetXMLDesc                       int32 = 43
	procNetworkGetAutostart                     int32 = 44
	procNetworkGetBridgeName                    int32 = 45
	procNetworkLookupByName                     int32 = 46
	procNetworkLookupByUUID                     int32 = 47
	procNetworkSetAutostart                     int32 = 48
	procNetworkUndefine                         int32 = 49
	procConnectNumOfDomains                     int32 = 51
	procConnectNumOfNetworks                    int32 = 52
	procDomainGetSchedulerType                  int32 = 56
	procDomainGetSchedulerParameters            int32 = 57
	procDomainSetSchedulerParameters            int32 = 58
	procConnectGetHostname                      int32 = 59
	procConnectSupportsFeature                  int32 = 60
	procAuthList                                int32 = 66
	procNodeGetFreeMemory                       int32 = 102
	procConnectGetURI                           int32 = 110
	procNodeNumOfDevices                        int32 = 111
	procDomainGetSecurityLabel                  int32 = 121
	procNodeGetSecurityModel                    int32 = 122
	procDomainIsActive                          int32 = 150
	procDomainIsPersistent                      int32 = 151
	procNetworkIsActive                         int32 = 152
	procNetworkIsPersistent                     int32 = 153
	procNetworkGetDhcpLeases                    int32 = 341
	procConnectGetLibVersion                    int32 = 157
	procDomainHasManagedSaveImage               int32 = 183
	procDomainSnapshotNum                       int32 = 187
	procDomainCreateWithFlags                   int32 = 196
	procDomainSetMemoryParameters               int32 = 197
	procDomainGetMemoryParameters               int32 = 198
	procDomainOpenConsole                       int32 = 201
	procDomainSetMemoryFlags                    int32 = 204
	procDomainSetBlkioParameters                int32 = 205
	procDomainGetBlkioParameters                int32 = 206
	procDomainGetState                          int32 = 212
	procDomainSetSchedulerParametersFlags       int32 = 219
	procDomainGetSchedulerParametersFlags       int32 = 223
	procDomainUndefineFlags                     int32 = 231
	procDomainDestroyFlags                      int32 = 234
	procDomainShutdownFlags                     int32 = 258
	procConnectListAllDomains                   int32 = 273
	procDomainListAllSnapshots                  int32 = 274
	procDomainGetHostname                       int32 = 277
	procConnectListAllStoragePools              int32 = 281
	procConnectListAllNetworks                  int32 = 283
	procConnectListAllNodeDevices               int32 = 285
	procConnectNetworkEventRegisterAny          int32 = 313
	procConnectNetworkEventDeregisterAny        int32 = 314
	procNetworkEventLifecycle                   int32 = 315
	procConnectDomainEventCallbackRegisterAny   int32 = 316
	procConnectDomainEventCallbackDeregisterAny int32 = 317
	procDomainEventCallbackLifecycle            int32 = 318
	procDomainEventCallbackReboot               int32 = 319
	procDomainDefineXMLFlags                    int32 = 350
	procDomainInterfaceAddresses                int32 = 353
	procConnectRegisterCloseCallback            int32 = 360
	procConnectUnregisterCloseCallback          int32 = 361
	procDomainGetMessages                       int32 = 426
	procNetworkDefineXMLFlags                   int32 = 432
	procNetworkCreateXMLFlags                   int32 = 437
)

// quickProcs are the calls answered from what the server holds in memory,
// never waiting on a guest, a supervisor or a lock another call may hold
// for long: the handshake, lists, lookups and the per-domain getters of
// virsh list, dominfo and virt-manager's poll. The reader runs them itself
// and writes their replies (conn.call); the rest run in a goroutine each.
var quickProcs = map[int32]bool{
	procAuthList: true, procConnectSupportsFeature: true, procConnectOpen: true, procConnectClose: true,
	procConnectGetURI: true, procConnectGetType: true, procConnectGetVersion: true, procConnectGetLibVersion: true,
	procConnectGetHostname: true, procConnectGetCapabilities: true, procNodeGetInfo: true,
	procNodeGetSecurityModel: true, procNodeGetFreeMemory: true,
	procConnectRegisterCloseCallback: true, procConnectUnregisterCloseCallback: true,
	procConnectDomainEventCallbackRegisterAny: true, procConnectDomainEventCallbackDeregisterAny: true,
	procConnectNetworkEventRegisterAny: true, procConnectNetworkEventDeregisterAny: true,
	procConnectListAllDomains: true, procConnectNumOfDomains: true, procConnectListDomains: true,
	procConnectNumOfDefinedDomains: true, procConnectListDefinedDomains: true,
	procDomainLookupByName: true, procDomainLookupByUUID: true, procDomainLookupByID: true,
	procDomainGetState: true, procDomainGetOsType: true, procDomainIsActive: true, procDomainIsPersistent: true,
	procDomainGetAutostart: true, procDomainHasManagedSaveImage: true, procDomainSnapshotNum: true,
	procDomainListAllSnapshots: true, procDomainGetSecurityLabel: true, procDomainGetMessages: true,
	procDomainGetSchedulerType: true, procConnectListAllStoragePools: true, procConnectListAllNodeDevices: true,
	procNodeNumOfDevices: true,
}
